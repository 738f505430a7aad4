/**
 * Per-test bookkeeping of the conformance suite: unique namespaces and root paths, clients created
 * through the adapter's factory, and their teardown even when the test fails.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  type CoordinatorRegistryCenter,
  joinRegistryPath,
  type RegistryCapabilities,
  type RegistryError,
  type RegistryErrorCode,
} from '@elasticjob-ts/core/adapter';
import { expect } from 'vitest';
import type {
  RegistryClientOptions,
  RegistryConformanceControls,
  RegistryConformanceSuiteOptions,
} from './options.js';
import { ConnectionStateRecorder, EventRecorder } from './recorders.js';
import { withTimeout } from './wait.js';

/** Options of {@link ConformanceContext.client}. */
export interface ConformanceClientOptions {
  /** Namespace; default: the test's own {@link ConformanceContext.namespace}. */
  readonly namespace?: string;
  /** Credentials passed to the factory. */
  readonly digest?: string;
  /** Session timeout in ms passed to the factory. */
  readonly sessionTimeoutMs?: number;
  /**
   * Marks a client of an authentication test: passed to the factory as
   * {@link RegistryClientOptions.authentication} (only when `true`).
   */
  readonly authentication?: boolean;
  /** Whether to `start()` the client. @defaultValue true */
  readonly start?: boolean;
  /** A recorder attached before `start()`, so it sees `CONNECTED`. */
  readonly states?: ConnectionStateRecorder;
}

let suiteCounter = 0;

/**
 * What each test case of the suite works with. One instance per suite; {@link ConformanceContext.begin}
 * and {@link ConformanceContext.end} bracket every test (called from `beforeEach`/`afterEach`).
 */
export class ConformanceContext {
  /** Suite options as given. */
  readonly options: RegistryConformanceSuiteOptions;
  /** Declared capabilities. */
  readonly capabilities: RegistryCapabilities;
  /** Available fault injection. */
  readonly controls: RegistryConformanceControls;
  /** Wait-bound multiplier (≥ 0, default 1). */
  readonly scale: number;
  readonly #runId: string;
  #testIndex = 0;
  #namespace = '';
  #root = '';
  #clients: CoordinatorRegistryCenter[] = [];
  #cleanups: Array<() => void | Promise<void>> = [];
  #recorders: Array<EventRecorder | ConnectionStateRecorder> = [];
  #namespaceIndex = 0;

  /** @param options - the suite's options. */
  constructor(options: RegistryConformanceSuiteOptions) {
    this.options = options;
    this.capabilities = options.capabilities;
    this.controls = options.controls ?? {};
    this.scale = options.timeoutScale ?? 1;
    suiteCounter += 1;
    const slug = options.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 20);
    this.#runId = `conformance-${slug}-${process.pid}-${suiteCounter}-${randomBytes(3).toString('hex')}`;
  }

  /** A wait bound scaled by `timeoutScale`, in ms. */
  ms(baseMs: number): number {
    return Math.ceil(baseMs * this.scale);
  }

  /** The current test's own namespace. */
  get namespace(): string {
    return this.#namespace;
  }

  /** The current test's own root path (unique across tests and runs), e.g. `/t7`. */
  get root(): string {
    return this.#root;
  }

  /** `root` joined with `segments`: `path('a', 'b')` → `/t7/a/b`. */
  path(...segments: Array<string | number>): string {
    return joinRegistryPath(this.#root, ...segments);
  }

  /** A further namespace unique to the current test (for isolation tests). */
  freshNamespace(): string {
    this.#namespaceIndex += 1;
    return `${this.#namespace}-n${this.#namespaceIndex}`;
  }

  /** Called before each test. */
  begin(): void {
    this.#testIndex += 1;
    this.#namespaceIndex = 0;
    this.#namespace = `${this.#runId}-${this.#testIndex}`;
    this.#root = `/t${this.#testIndex}-${randomBytes(2).toString('hex')}`;
  }

  /**
   * Called after each test, also when it failed: runs the cleanups registered with
   * {@link ConformanceContext.onCleanup} (newest first), cancels recorder waits and closes every
   * client the test created, each with a bound. Rejects with all problems at once, after trying all.
   */
  async end(): Promise<void> {
    const problems: unknown[] = [];
    const cleanups = this.#cleanups.reverse();
    this.#cleanups = [];
    for (const cleanup of cleanups) {
      try {
        await withTimeout(Promise.resolve().then(cleanup), this.ms(10_000), 'a test cleanup');
      } catch (error) {
        problems.push(error);
      }
    }
    for (const recorder of this.#recorders) recorder.cancelWaits('test ended');
    this.#recorders = [];
    const clients = this.#clients;
    this.#clients = [];
    const results = await Promise.allSettled(
      clients.map((client) => withTimeout(client.close(), this.ms(15_000), 'close() of a test client')),
    );
    for (const result of results) if (result.status === 'rejected') problems.push(result.reason);
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1)
      throw new AggregateError(problems, 'several problems while tearing the test down');
  }

  /** Registers work to do when the test ends (before clients are closed), e.g. releasing a latch. */
  onCleanup(cleanup: () => void | Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  /**
   * Creates a client through the factory (tracked: it is closed when the test ends) and starts it.
   *
   * @param options - namespace (default: the test's), credentials, session timeout, the
   *   `authentication` flag, `start`, `states`.
   * @returns the client, started unless `start: false`.
   */
  async client(options: ConformanceClientOptions = {}): Promise<CoordinatorRegistryCenter> {
    const factoryOptions: { -readonly [K in keyof RegistryClientOptions]: RegistryClientOptions[K] } = {
      namespace: options.namespace ?? this.#namespace,
    };
    if (options.digest !== undefined) factoryOptions.digest = options.digest;
    if (options.sessionTimeoutMs !== undefined) factoryOptions.sessionTimeoutMs = options.sessionTimeoutMs;
    if (options.authentication === true) factoryOptions.authentication = true;
    const client = await this.options.create(factoryOptions);
    this.#clients.push(client);
    if (options.states !== undefined) options.states.attach(client);
    if (options.start ?? true) {
      await withTimeout(client.start(), this.ms(20_000), `start() of a '${factoryOptions.namespace}' client`);
    }
    return client;
  }

  /** A new {@link EventRecorder} whose waits default to a scaled bound and end with the test. */
  recorder(): EventRecorder {
    const recorder = new EventRecorder({ defaultTimeoutMs: this.ms(10_000) });
    this.#recorders.push(recorder);
    return recorder;
  }

  /** A new {@link ConnectionStateRecorder}, detached and cancelled when the test ends. */
  states(): ConnectionStateRecorder {
    const recorder = new ConnectionStateRecorder({ defaultTimeoutMs: this.ms(10_000) });
    this.#recorders.push(recorder);
    this.onCleanup(() => recorder.detach());
    return recorder;
  }
}

/**
 * Reads the subtree below `key` (not `key` itself) from the server with `getChildrenKeys` and
 * `getDirectly`.
 *
 * @param client - a started client.
 * @param key - subtree root.
 * @param includeRoot - also include `key` itself when it exists.
 * @returns path → value for every node found.
 */
export async function readSubtree(
  client: CoordinatorRegistryCenter,
  key: string,
  includeRoot = false,
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  if (includeRoot) {
    const value = await client.getDirectly(key);
    if (value !== undefined) result.set(key, value);
  }
  const visit = async (parent: string): Promise<void> => {
    for (const child of await client.getChildrenKeys(parent)) {
      const path = joinRegistryPath(parent, child);
      const value = await client.getDirectly(path);
      if (value !== undefined) result.set(path, value);
      await visit(path);
    }
  };
  await visit(key);
  return result;
}

/** Sorted entries of a map, for order-independent `toEqual`. */
export function sortedEntries(map: ReadonlyMap<string, string>): Array<[string, string]> {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Runs `operation` (sync throw or rejection both count) and returns what it threw.
 *
 * @throws an assertion error when it did not throw.
 */
export async function captureError(operation: () => unknown): Promise<unknown> {
  try {
    await operation();
  } catch (error) {
    return error;
  }
  expect.fail('expected the operation to fail, but it succeeded');
}

/**
 * Asserts that `operation` fails with a `RegistryError` of `code` (and, if given, `path`).
 *
 * @returns the error, for further assertions.
 */
export async function expectRegistryError(
  operation: () => unknown,
  code: RegistryErrorCode,
  path?: string,
): Promise<RegistryError> {
  const error = await captureError(operation);
  expect(isRegistryErrorLike(error), `expected a RegistryError ${code}, got ${String(error)}`).toBe(true);
  const registryError = error as RegistryError;
  expect(registryError.code, `error code (message: ${registryError.message})`).toBe(code);
  if (path !== undefined) expect(registryError.path, 'error path').toBe(path);
  return registryError;
}

/** A `RegistryError`, also when it comes from a second copy of core (checked by name and code). */
export function isRegistryErrorLike(error: unknown): error is RegistryError {
  return (
    error instanceof Error &&
    error.name === 'RegistryError' &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}
