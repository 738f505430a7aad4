/**
 * `executeInLeader` on ZooKeeper, following the recipe and node naming of Curator's `LeaderLatch`
 * (the latch ElasticJob's `ZookeeperRegistryCenter#executeInLeader` opens), so that Java ElasticJob
 * instances and ours exclude each other on the same latch path:
 *
 * - every participant creates an ephemeral-sequential child `_c_{uuid}-latch-{seq}` of the latch
 *   key (Curator's "protected" name: `_c_` + a random v4 UUID + `-`, then `latch-`, then the
 *   server's 10-digit sequence);
 * - participants are ordered by the part after `latch-`; the first one holds the latch;
 * - every other participant watches its immediate predecessor and re-checks when it goes away;
 * - the holder deletes its node when done; a holder whose session ends loses its node with it.
 *
 * The UUID makes creation safe to retry after a connection loss: the participant looks for a child
 * carrying its UUID before creating another one.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { RegistryError } from '@elasticjob-ts/core/adapter';
import { CreateMode, type Event, type Stat } from 'node-zookeeper-client';
import type { ZookeeperConnection } from './zookeeper-connection.js';

/** Curator's `LeaderLatch` lock name: participants are named `..latch-{seq}`. */
export const LATCH_LOCK_NAME = 'latch-';

/** Curator's protected-name prefix: `_c_{uuid}-`. */
export const PROTECTED_PREFIX = '_c_';

/**
 * Curator's sort key of a participant: the text after the last `latch-` (the sequence), or the
 * whole name when it has none.
 *
 * @param name - child name.
 */
export function latchSortKey(name: string): string {
  const index = name.lastIndexOf(LATCH_LOCK_NAME);
  return index < 0 ? name : name.slice(index + LATCH_LOCK_NAME.length);
}

/**
 * Participants in latch order (Curator's `LockInternals.getSortedChildren` order).
 *
 * @param names - child names of the latch node.
 */
export function sortLatchParticipants(names: readonly string[]): string[] {
  return [...names].sort((a, b) => {
    const x = latchSortKey(a);
    const y = latchSortKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** What a latch participant needs from the registry center. */
export interface LatchHost {
  /** The current session (changes after a session loss). */
  connection(): ZookeeperConnection;
  /** Bound for one request, in ms. */
  readonly requestTimeoutMs: number;
  /** Creates the latch node and its missing parents (persistent), tolerating races. */
  ensurePath(path: string): Promise<void>;
  /** ACLs for created nodes. */
  acls(): unknown[];
  /** Namespace-relative key of an absolute path. */
  relative(path: string): string;
  /** Throws `NOT_STARTED` once the client is closed. */
  assertOpen(): void;
  /** Whether the client is started and not closed (never throws). */
  isOpen(): boolean;
  /** Registers a callback for "session replaced or client closed"; returns its remover. */
  onSessionChange(callback: () => void): () => void;
  /** Reports a failure nobody awaits. */
  reportBackgroundError(error: unknown, message: string): void;
}

/** Options of {@link acquireLatch}. */
export interface AcquireLatchOptions {
  /** Absolute path of the latch node. */
  readonly latchPath: string;
  /** Absolute deadline (epoch ms) for acquiring. */
  readonly deadline: number;
  /** The bound as given, in ms, for the error message. */
  readonly waitTimeoutMs: number;
  /** Aborts the wait. */
  readonly signal?: AbortSignal | undefined;
}

/** A held latch: release it when the callback settled. */
export interface HeldLatch {
  /** Absolute path of this participant's node. */
  readonly path: string;
  /** Deletes the node (retrying connection losses; later in the background if needed). */
  release(): Promise<void>;
}

class Participant {
  readonly #host: LatchHost;
  readonly #latchPath: string;
  readonly #uuid = randomUUID();
  #name: string | undefined;
  #connection: ZookeeperConnection | undefined;
  /** A create that was given up on while unanswered: delete its node if it succeeds later. */
  #orphanedCreates: Array<Promise<string>> = [];

  constructor(host: LatchHost, latchPath: string) {
    this.#host = host;
    this.#latchPath = latchPath;
  }

  get #prefix(): string {
    return `${PROTECTED_PREFIX}${this.#uuid}-`;
  }

  get path(): string | undefined {
    return this.#name === undefined ? undefined : `${this.#latchPath}/${this.#name}`;
  }

  async acquire(options: AcquireLatchOptions): Promise<void> {
    for (;;) {
      this.#checkWait(options);
      const connection = this.#host.connection();
      try {
        if (this.#name === undefined || this.#connection !== connection) {
          this.#name = await this.#create(connection, options);
          this.#connection = connection;
        }
        const children = await this.#request<string[]>(
          connection,
          'getChildren',
          this.#latchPath,
          (client, done) => client.getChildren(this.#latchPath, (error, names) => done(error, names)),
        );
        const sorted = sortLatchParticipants(children);
        const index = sorted.indexOf(this.#name);
        if (index < 0) {
          // Our node is gone (its session ended, or someone deleted it): join again.
          this.#name = undefined;
          continue;
        }
        if (index === 0) return;
        await this.#waitForDeletion(connection, `${this.#latchPath}/${sorted[index - 1]}`, options);
      } catch (error) {
        if (RegistryError.is(error, 'CONNECTION_LOSS', 'SESSION_EXPIRED')) {
          // Same session: the next round retries once the connection is back; new session: the
          // node is re-created on it. The wait stays bounded by the deadline.
          await this.#pause(options, 50);
          continue;
        }
        throw error;
      }
    }
  }

  /** Deletes this participant's node, if any; retried, then handed to the background. */
  async release(): Promise<void> {
    const path = this.path;
    this.#name = undefined;
    for (const orphan of this.#orphanedCreates) {
      orphan.then(
        (name) => void this.#deleteQuietly(`${this.#latchPath}/${name}`),
        () => undefined,
      );
    }
    this.#orphanedCreates = [];
    if (path === undefined) return;
    await this.#deleteQuietly(path);
  }

  async #deleteQuietly(path: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await this.#request<void>(this.#host.connection(), 'delete', path, (client, done) =>
          client.remove(path, -1, (error) => done(error)),
        );
        return;
      } catch (error) {
        if (RegistryError.is(error, 'NO_NODE', 'SESSION_EXPIRED')) return; // gone, or gone with the session
        if (RegistryError.is(error, 'NOT_STARTED')) return; // closed: the session and its nodes are gone
        if (!RegistryError.is(error, 'CONNECTION_LOSS') || attempt === 4) {
          this.#host.reportBackgroundError(
            error,
            `Could not delete latch node '${this.#host.relative(path)}'; it stays until this session ends`,
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  async #create(connection: ZookeeperConnection, options: AcquireLatchOptions): Promise<string> {
    const prefixPath = `${this.#latchPath}/${this.#prefix}${LATCH_LOCK_NAME}`;
    for (;;) {
      this.#checkWait(options);
      const created = connection.call<string>(
        'create',
        this.#host.relative(prefixPath),
        undefined,
        (client, done) =>
          client.create(
            prefixPath,
            Buffer.alloc(0),
            this.#host.acls() as never,
            CreateMode.EPHEMERAL_SEQUENTIAL,
            done,
          ),
      );
      let path: string;
      try {
        path = await this.#raceWait(created, options);
      } catch (error) {
        if (RegistryError.is(error, 'NO_NODE')) {
          await this.#host.ensurePath(this.#latchPath);
          continue;
        }
        if (RegistryError.is(error, 'CONNECTION_LOSS')) {
          // The create may have been applied: look for our UUID (Curator's protection).
          const mine = await this.#findOwn(connection);
          if (mine !== undefined) return mine;
          await this.#pause(options, 50);
          continue;
        }
        throw error;
      }
      return path.slice(path.lastIndexOf('/') + 1);
    }
  }

  async #findOwn(connection: ZookeeperConnection): Promise<string | undefined> {
    const children = await this.#request<string[]>(
      connection,
      'getChildren',
      this.#latchPath,
      (client, done) => client.getChildren(this.#latchPath, (error, names) => done(error, names)),
    ).catch((error: unknown) => {
      if (RegistryError.is(error, 'NO_NODE')) return [] as string[];
      throw error;
    });
    return sortLatchParticipants(children.filter((name) => name.startsWith(this.#prefix)))[0];
  }

  /** Races an unbounded request against the wait's deadline, abort signal and session changes. */
  async #raceWait<T>(request: Promise<T>, options: AcquireLatchOptions): Promise<T> {
    let cleanup = (): void => {};
    const interrupted = new Promise<never>((_, reject) => {
      const timer = setTimeout(
        () => reject(this.#timeoutError(options)),
        Math.max(0, options.deadline - Date.now()),
      );
      const onAbort = (): void => reject(abortReason(options.signal));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const removeSessionListener = this.#host.onSessionChange(() => {
        if (this.#host.isOpen()) {
          reject(
            new RegistryError('SESSION_EXPIRED', 'The ZooKeeper session was replaced while joining a latch'),
          );
        } else {
          reject(new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed'));
        }
      });
      if (options.signal?.aborted) onAbort();
      cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        removeSessionListener();
      };
    });
    try {
      return await Promise.race([request, interrupted]);
    } catch (error) {
      // Given up while the create may still be answered later: delete that node when it is.
      if (!RegistryError.is(error, 'NO_NODE', 'CONNECTION_LOSS', 'NODE_EXISTS')) {
        this.#orphanedCreates.push(
          (request as unknown as Promise<string>).then((path) => path.slice(path.lastIndexOf('/') + 1)),
        );
      }
      throw error;
    } finally {
      cleanup();
    }
  }

  async #waitForDeletion(connection: ZookeeperConnection, predecessor: string, options: AcquireLatchOptions) {
    let wake = (): void => {};
    const changed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const stat = await this.#request<Stat | null>(connection, 'exists', predecessor, (client, done) =>
      client.exists(
        predecessor,
        (_event: Event) => wake(),
        (error, result) => done(error, result),
      ),
    );
    if (stat === null || stat === undefined) return; // already gone: re-check now
    let cleanup = (): void => {};
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(this.#timeoutError(options)),
          Math.max(0, options.deadline - Date.now()),
        );
        const onAbort = (): void => reject(abortReason(options.signal));
        options.signal?.addEventListener('abort', onAbort, { once: true });
        const removeSessionListener = this.#host.onSessionChange(() => resolve());
        if (options.signal?.aborted) onAbort();
        cleanup = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          removeSessionListener();
        };
        changed.then(resolve, reject);
      });
    } finally {
      cleanup();
    }
  }

  #request<R>(
    connection: ZookeeperConnection,
    operation: string,
    path: string,
    invoke: Parameters<ZookeeperConnection['call']>[3],
  ): Promise<R> {
    this.#host.assertOpen();
    return connection.call<R>(
      operation,
      this.#host.relative(path),
      this.#host.requestTimeoutMs,
      invoke as never,
    );
  }

  #checkWait(options: AcquireLatchOptions): void {
    this.#host.assertOpen();
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (Date.now() >= options.deadline) throw this.#timeoutError(options);
  }

  async #pause(options: AcquireLatchOptions, ms: number): Promise<void> {
    const delay = Math.min(ms, Math.max(0, options.deadline - Date.now()));
    await new Promise((resolve) => setTimeout(resolve, delay));
  }

  #timeoutError(options: AcquireLatchOptions): RegistryError {
    const key = this.#host.relative(options.latchPath);
    return new RegistryError(
      'TIMEOUT',
      `Latch '${key}' was not acquired within ${options.waitTimeoutMs} ms`,
      {
        path: key,
      },
    );
  }
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Joins the latch and resolves once this participant holds it. On timeout, abort or close the
 * participant's node is deleted before the rejection.
 *
 * @param host - the registry center's session access.
 * @param options - latch path, deadline, signal.
 * @returns the held latch.
 * @throws {RegistryError} `TIMEOUT` past the deadline; `NOT_STARTED` when the client closes; the
 *   signal's reason when aborted; other registry errors (e.g. `NO_AUTH`) as they come.
 */
export async function acquireLatch(host: LatchHost, options: AcquireLatchOptions): Promise<HeldLatch> {
  const participant = new Participant(host, options.latchPath);
  try {
    await participant.acquire(options);
  } catch (error) {
    await participant.release();
    throw error;
  }
  const path = participant.path as string;
  return { path, release: () => participant.release() };
}
