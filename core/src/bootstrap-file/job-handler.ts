/**
 * Loading a job's `handler: ./module.js#exportName` from a jobs file.
 *
 * @module
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResolvedJobConfiguration } from '../config/job-configuration.js';
import type { DataflowJob, SimpleJob } from '../job/elastic-job.js';

/**
 * What a class-valued or factory-valued handler export receives when the jobs file is loaded.
 */
export interface JobHandlerContext {
  /** The job's name. */
  readonly jobName: string;
  /** The job's configuration from the file, with defaults applied. */
  readonly configuration: ResolvedJobConfiguration;
  /** The jobs file (absolute path), or `undefined` for a configuration object. */
  readonly file: string | undefined;
}

/**
 * A handler export: a job object, a class whose instances are job objects (constructed with
 * `new Handler(context)`), or a factory function `(context) => job | Promise<job>`.
 */
export type JobHandlerExport =
  | SimpleJob
  | DataflowJob
  | (new (
      context: JobHandlerContext,
    ) => SimpleJob | DataflowJob)
  | ((context: JobHandlerContext) => SimpleJob | DataflowJob | Promise<SimpleJob | DataflowJob>);

/** A parsed `handler` value. */
export interface HandlerReference {
  /** The module part as written, e.g. `./jobs/orders.js`. */
  readonly module: string;
  /** The export name; `default` when the reference has no `#name`. */
  readonly exportName: string;
  /** The module's absolute path. */
  readonly modulePath: string;
}

/**
 * Parses `./path/module.js#exportName` (`#exportName` optional, default export then). The module
 * is a file path, relative to `baseDir` unless absolute; package names are not accepted.
 *
 * @param reference - the `handler` value.
 * @param baseDir - the directory relative paths start from (the jobs file's directory).
 * @returns the parsed reference.
 * @throws {TypeError} naming the value and the accepted form.
 * @internal
 */
export function parseHandlerReference(reference: string, baseDir: string): HandlerReference {
  const hash = reference.lastIndexOf('#');
  const module = hash < 0 ? reference : reference.slice(0, hash);
  const exportName = hash < 0 ? 'default' : reference.slice(hash + 1);
  const accepted = `expected './path/to/module.js#exportName' (a file path relative to the jobs file, or absolute; '#exportName' optional, default export otherwise)`;
  if (module === '' || exportName === '') {
    throw new TypeError(`handler ${JSON.stringify(reference)} is incomplete; ${accepted}`);
  }
  if (!(module.startsWith('./') || module.startsWith('../') || isAbsolute(module))) {
    throw new TypeError(`handler ${JSON.stringify(reference)} is not a file path; ${accepted}`);
  }
  return { module, exportName, modulePath: resolve(baseDir, module) };
}

/**
 * Imports a handler module and turns its export into a job object:
 *
 * - an object with `execute()` (SimpleJob) or `fetchData()` and `processData()` (DataflowJob) is
 *   the job itself (one object shared by all items of the job);
 * - a class (`class X {}` syntax, or a function whose prototype has `execute`/`fetchData`) is
 *   instantiated once with `new X(context)`;
 * - any other function is a factory, called once as `fn(context)`; it may return a promise.
 *
 * @param reference - the parsed handler reference.
 * @param context - passed to classes and factories.
 * @returns the job object (not yet checked to be a SimpleJob/DataflowJob: the item executor does that).
 * @throws {TypeError} when the module cannot be imported, has no such export, or the export (or
 *   what a class/factory produced) is not an object; the message names the module and export.
 * @internal
 */
export async function loadJobHandler(
  reference: HandlerReference,
  context: JobHandlerContext,
): Promise<unknown> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(reference.modulePath).href)) as Record<string, unknown>;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n', 1)[0] : String(cause);
    throw new TypeError(
      `cannot import module '${reference.modulePath}' (from '${reference.module}'): ${reason}`,
      {
        cause,
      },
    );
  }
  if (!Object.hasOwn(namespace, reference.exportName)) {
    const names = Object.keys(namespace);
    throw new TypeError(
      `module '${reference.module}' has no export '${reference.exportName}'; its exports: ` +
        (names.length === 0 ? '(none)' : names.join(', ')),
    );
  }
  return instantiateHandlerExport(
    namespace[reference.exportName],
    `export '${reference.exportName}' of '${reference.module}'`,
    context,
  );
}

/**
 * Turns a handler export (or a handler value given to `runJobsFromConfig`) into the job object, by
 * the rules of {@link loadJobHandler}.
 *
 * @param exported - the export.
 * @param what - how to name it in messages.
 * @param context - passed to classes and factories.
 * @throws {TypeError} when it is neither an object, a class nor a function, when a class or
 *   factory throws, or produces anything but an object.
 * @internal
 */
export async function instantiateHandlerExport(
  exported: unknown,
  what: string,
  context: JobHandlerContext,
): Promise<unknown> {
  if (typeof exported === 'function') {
    const kind = isClass(exported) ? 'class' : 'factory function';
    let job: unknown;
    try {
      job =
        kind === 'class'
          ? new (exported as new (context: JobHandlerContext) => unknown)(context)
          : await (exported as (context: JobHandlerContext) => unknown)(context);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TypeError(`${what} (a ${kind}) threw while creating the job: ${reason}`, { cause });
    }
    if (job === null || typeof job !== 'object') {
      throw new TypeError(
        `${what} is a ${kind} that produced ${job === null ? 'null' : typeof job}; ` +
          'expected a SimpleJob (execute()) or DataflowJob (fetchData(), processData()) object',
      );
    }
    return job;
  }
  if (exported === null || typeof exported !== 'object') {
    throw new TypeError(
      `${what} is ${exported === null ? 'null' : typeof exported}; expected a SimpleJob or DataflowJob object, ` +
        'a class, or a factory function',
    );
  }
  return exported;
}

function isClass(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  if (/^class[\s{]/.test(Function.prototype.toString.call(fn))) return true;
  const prototype = (fn as { prototype?: Record<string, unknown> }).prototype;
  return (
    prototype !== undefined &&
    (typeof prototype.execute === 'function' || typeof prototype.fetchData === 'function')
  );
}
