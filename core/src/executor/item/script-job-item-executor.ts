/**
 * The `SCRIPT` typed job (ElasticJob `ScriptJobExecutor`): runs a command line per item, without a
 * shell, with the item's sharding context as JSON in the last argument.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { parseArgsStringToArgv } from 'string-argv';
import type { ResolvedJobConfiguration } from '../../config/job-configuration.js';
import { JobSystemError } from '../../error-handler/job-system-error.js';
import type { JobItemExecutor, JobRuntime } from '../../job/elastic-job.js';
import type { ShardingContext } from '../../job/sharding-context.js';
import { type Props, positiveIntegerProp, propError, requiredProp } from '../props.js';
import { shardingContextToJson } from './sharding-context-json.js';

/** Prop: the command line to run, e.g. `node ./jobs/export.js --fast`. Required. */
export const SCRIPT_COMMAND_LINE_PROP = 'script.command.line';

/**
 * Prop: how long a child may take to exit after `SIGTERM` (the run was aborted: shutdown, session
 * loss) before it gets `SIGKILL`, in ms. Positive integer. @defaultValue 5000
 * ({@link DEFAULT_SCRIPT_KILL_GRACE_MS}). Not in ElasticJob, whose script jobs are never stopped.
 */
export const SCRIPT_KILL_GRACE_MS_PROP = 'script.kill.grace.milliseconds';

/** Default of {@link SCRIPT_KILL_GRACE_MS_PROP}, ms. */
export const DEFAULT_SCRIPT_KILL_GRACE_MS = 5_000;

/**
 * Splits a `script.command.line` into argv the way ElasticJob's commons-exec `CommandLine.parse`
 * does: on whitespace, with `"…"` and `'…'` quoting (quotes removed, no backslash escapes, no
 * variables, globs, pipes or redirections: nothing is handed to a shell).
 *
 * @param props - the job's props.
 * @param jobName - for error messages.
 * @returns the program and its arguments (at least the program).
 * @throws {JobConfigurationError} (field `props.script.command.line`) when the prop is missing,
 * blank or names no program.
 */
export function parseScriptCommandLine(props: Props, jobName: string): string[] {
  const owner = { what: 'the SCRIPT job type', jobName };
  const commandLine = requiredProp(props, SCRIPT_COMMAND_LINE_PROP, owner);
  const argv = parseArgsStringToArgv(commandLine);
  if (argv.length === 0 || argv[0] === '') {
    throw propError(owner, SCRIPT_COMMAND_LINE_PROP, `names no program: '${commandLine}'`);
  }
  return argv;
}

/**
 * Runs the `SCRIPT` job's item: spawns `script.command.line` (split by
 * {@link parseScriptCommandLine}, no shell) with one extra argument, the item's sharding context
 * as JSON ({@link shardingContextToJson}), stdio inherited from this process, and waits for it to
 * exit. The command line is read from the current run's configuration.
 *
 * Fails the item with {@link JobSystemError} `ITEM_FAILED` (naming the command line and the exit
 * code or signal) when the process cannot start or exits other than with code 0. When the item's
 * `signal` aborts, the child gets `SIGTERM`, and `SIGKILL` if it has not exited
 * {@link SCRIPT_KILL_GRACE_MS_PROP} ms later (so a script that ignores `SIGTERM` cannot outlive
 * the run by more than that); the item fails once the child has exited. There is no timeout
 * otherwise, as in ElasticJob.
 */
export class ScriptJobItemExecutor implements JobItemExecutor {
  /**
   * @param configuration - the job's configuration at resolve time, to validate the prop.
   * @throws {JobConfigurationError} when `script.command.line` is missing or blank.
   */
  constructor(configuration: ResolvedJobConfiguration) {
    parseScriptCommandLine(configuration.props, configuration.jobName);
    scriptKillGraceMs(configuration.props, configuration.jobName);
  }

  /**
   * Runs the item's process.
   * @throws {JobSystemError} `ITEM_FAILED` as described on the class.
   * @throws {JobConfigurationError} when the current configuration lost the prop.
   */
  async process(context: ShardingContext, runtime: JobRuntime): Promise<void> {
    const argv = parseScriptCommandLine(runtime.configuration.props, context.jobName);
    const killGraceMs = scriptKillGraceMs(runtime.configuration.props, context.jobName);
    const [program, ...args] = argv as [string, ...string[]];
    const shown = `SCRIPT job '${context.jobName}' item ${context.shardingItem}: command '${argv.join(' ')}'`;
    if (context.signal.aborted) {
      throw new JobSystemError('ITEM_FAILED', `${shown} not started: the run was aborted`, {
        cause: context.signal.reason,
      });
    }
    await new Promise<void>((resolve, reject) => {
      const child = spawn(program, [...args, shardingContextToJson(context)], {
        stdio: 'inherit',
        shell: false,
      });
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      };
      context.signal.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        context.signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      child.once('error', (error) => {
        settle(
          new JobSystemError('ITEM_FAILED', `${shown} failed to start: ${error.message}`, { cause: error }),
        );
      });
      child.once('close', (code, signal) => {
        if (code === 0) {
          settle();
          return;
        }
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        const why = context.signal.aborted ? ' (the run was aborted)' : '';
        settle(new JobSystemError('ITEM_FAILED', `${shown} ${how}${why}`));
      });
    });
  }
}

/** {@link SCRIPT_KILL_GRACE_MS_PROP}, validated. */
function scriptKillGraceMs(props: Props, jobName: string): number {
  const owner = { what: 'the SCRIPT job type', jobName };
  return positiveIntegerProp(props, SCRIPT_KILL_GRACE_MS_PROP, DEFAULT_SCRIPT_KILL_GRACE_MS, owner);
}
