/**
 * `executeInLeader`: a fair distributed mutex on the session lease, the recipe of Go's
 * `concurrency.Mutex` (`etcd3`'s own `lock()` fails at once when held and has no queue).
 *
 * Each waiter puts `{latch}/{leaseId hex}-{uuid}` attached to its session lease (creating missing
 * parents); the waiter whose key has the lowest create revision holds the latch; every other waiter
 * watches the key with the next-lower create revision for deletion and then checks again. A holder
 * whose session ends loses its key with the lease, which releases the latch. The wait is bounded
 * (`TIMEOUT`) and abortable; a waiter that gives up deletes its key.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type LeaderLatchOptions, RegistryError } from '@elasticjob-ts/core/adapter';
import type { Etcd3, IRangeResponse } from 'etcd3';
import type { KeyCodec } from './keys.js';
import type { ReadBatcher } from './read-batcher.js';
import type { RequestGate } from './request-gate.js';
import type { LeaseSession } from './session.js';
import { registryErrorCodeOf, toRegistryError } from './to-registry-error.js';

/** Default bounded wait for the latch, in ms. */
export const DEFAULT_LATCH_WAIT_TIMEOUT_MS = 30_000;

/** What the latch needs from the registry center. */
export interface LatchContext {
  readonly client: Etcd3;
  readonly codec: KeyCodec;
  readonly session: LeaseSession;
  /** Deadline of one request, in ms. */
  readonly requestTimeoutMs: number;
  /** The client's request gate: the latch's own writes pass it. */
  readonly gate: RequestGate;
  /** The client's read batcher: the latch's reads pass it (and the gate). */
  readonly reads: ReadBatcher;
  /** Creates the parents of `path` (if absent) and puts `key` with the lease; returns the Txn revision. */
  readonly putWithParents: (path: string, leaseId: string) => Promise<bigint>;
  /** Reports background failures. */
  readonly onError: (message: string, error: unknown) => void;
  /** Tracks background work so that `close()` can end it. */
  readonly track: (cleanup: () => void) => () => void;
}

function validateWaitTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_LATCH_WAIT_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(
      `executeInLeader 'waitTimeoutMs' must be a finite number of ms >= 0, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Runs `callback` while holding the latch `latchPath`.
 *
 * @throws {RegistryError} `TIMEOUT` when not acquired within `waitTimeoutMs`; `SESSION_EXPIRED`
 *   when the session ended while waiting; connection codes; the signal's reason when aborted;
 *   whatever `callback` throws (after release).
 */
export async function executeInLatch<T>(
  context: LatchContext,
  latchPath: string,
  callback: () => Promise<T> | T,
  options: LeaderLatchOptions = {},
): Promise<T> {
  const waitTimeoutMs = validateWaitTimeout(options.waitTimeoutMs);
  const signal = options.signal;
  signal?.throwIfAborted();
  const { codec, session } = context;
  const leaseId = session.requireLease(latchPath);
  const name = `${BigInt(leaseId).toString(16)}-${randomUUID()}`;
  const waiterPath = `${latchPath === '/' ? '' : latchPath}/${name}`;
  const waiterKey = codec.toKey(waiterPath);
  const deadline = Date.now() + waitTimeoutMs;

  let myRevision: bigint;
  try {
    myRevision = await context.putWithParents(waiterPath, leaseId);
  } catch (error) {
    throw toRegistryError(error, 'executeInLeader (enqueue)', latchPath);
  }

  try {
    await waitForTurn(context, latchPath, waiterKey, myRevision, leaseId, deadline, waitTimeoutMs, signal);
  } catch (error) {
    await deleteWaiterKey(context, waiterKey, leaseId);
    throw error;
  }

  try {
    return await callback();
  } finally {
    await deleteWaiterKey(context, waiterKey, leaseId);
  }
}

async function waitForTurn(
  context: LatchContext,
  latchPath: string,
  waiterKey: string,
  myRevision: bigint,
  leaseId: string,
  deadline: number,
  waitTimeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { codec, session } = context;
  const range = codec.descendants(latchPath);
  for (;;) {
    signal?.throwIfAborted();
    if (session.leaseId !== leaseId) throw sessionEnded(latchPath);
    let predecessor: string | undefined;
    let revision: bigint;
    try {
      const response = await context.reads.read([
        { request_range: { key: Buffer.from(waiterKey), keys_only: true } },
        {
          request_range: {
            key: range.key,
            range_end: range.range_end,
            max_create_revision: (myRevision - 1n).toString(),
            sort_target: 'Create',
            sort_order: 'Descend',
            limit: 1,
            keys_only: true,
          },
        },
      ]);
      const own = response.responses[0]?.response_range as IRangeResponse | undefined;
      const before = response.responses[1]?.response_range as IRangeResponse | undefined;
      if (own === undefined || own.kvs.length === 0) throw sessionEnded(latchPath);
      predecessor = before?.kvs[0]?.key.toString();
      revision = response.revision;
    } catch (error) {
      throw toRegistryError(error, 'executeInLeader (wait)', latchPath);
    }
    if (predecessor === undefined) return;
    await waitForDeletion(
      context,
      latchPath,
      predecessor,
      revision + 1n,
      leaseId,
      deadline,
      waitTimeoutMs,
      signal,
    );
  }
}

function sessionEnded(latchPath: string): RegistryError {
  return new RegistryError(
    'SESSION_EXPIRED',
    `The etcd session ended while waiting for latch '${latchPath}'; its queue entry is gone`,
    { path: latchPath },
  );
}

/** Resolves when `key` is deleted (or the watch ends early: the caller checks again). */
function waitForDeletion(
  context: LatchContext,
  latchPath: string,
  key: string,
  fromRevision: bigint,
  leaseId: string,
  deadline: number,
  waitTimeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { client, session } = context;
  return new Promise<void>((resolve, reject) => {
    const watcher = client.watch().key(key).startRevision(fromRevision.toString()).only('delete').watcher();
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stopSessionListener();
      untrack();
      watcher.removeAllListeners('data');
      void watcher.cancel().catch(() => undefined);
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = setTimeout(
      () =>
        finish(
          new RegistryError('TIMEOUT', `Latch '${latchPath}' was not acquired within ${waitTimeoutMs} ms`, {
            path: latchPath,
          }),
        ),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = () => finish(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const stopSessionListener = session.onSessionEnd((ended) => {
      if (ended === leaseId) finish(sessionEnded(latchPath));
    });
    const untrack = context.track(() =>
      finish(new RegistryError('NOT_STARTED', 'The etcd registry was closed', { path: latchPath })),
    );
    watcher.on('data', (response) => {
      if (response.events.length > 0) finish();
    });
    watcher.on('disconnected', () => {
      // Nothing was seen yet: resume from the start (etcd3 would resume after the created header).
      watcher.request.start_revision = fromRevision.toString();
    });
    watcher.on('error', (error: Error) => {
      // The watch was refused or cancelled (e.g. compaction): re-check from a fresh read.
      context.onError(`latch watch on '${key}' ended; re-checking`, error);
      finish();
    });
  });
}

/** Deletes our queue entry; retried in the background while our lease lives if it fails now. */
async function deleteWaiterKey(context: LatchContext, key: string, leaseId: string): Promise<void> {
  const attempt = () =>
    context.gate.run(() =>
      context.client.kv.deleteRange(
        { key: Buffer.from(key) },
        { deadline: Date.now() + context.requestTimeoutMs },
      ),
    );
  try {
    await attempt();
    return;
  } catch (error) {
    // Closed client: close() revoked (or is revoking) the lease, which deletes the key.
    if (registryErrorCodeOf(error) === 'NOT_STARTED') return;
    context.onError(`could not delete latch entry '${key}'; retrying while the session lives`, error);
  }
  let timer: NodeJS.Timeout | undefined;
  const untrack = context.track(() => clearTimeout(timer));
  const retry = () => {
    if (context.session.leaseId !== leaseId) {
      untrack(); // the lease is gone, and the key with it
      return;
    }
    attempt().then(untrack, () => {
      timer = setTimeout(retry, 1000);
    });
  };
  timer = setTimeout(retry, 1000);
}
