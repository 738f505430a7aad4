/**
 * {@link ReadBatcher}: the point reads (`getDirectly`, `isExisted`) that wait for a slot of the
 * client's {@link RequestGate} go to the server together, as one read-only Txn.
 *
 * Each unary call costs the client and the server far more than the ranges it carries (`grpc-js`
 * call set-up, one linearizable read barrier on the server). When a peer of many jobs dies, every
 * job of the survivor elects, reshards and claims at once, about twenty reads and writes each in
 * sequence, and the calls of all jobs wait in the gate's one queue: with one call per read, 5,000
 * jobs made about 100,000 calls, the client saturated at about 1,000 calls per second, and every
 * job's takeover ended only when the whole burst had been served (its steps queue behind every
 * other job's). Reads are three quarters of those calls.
 *
 * A read is a list of range operations. It is queued here; a *carrier*, one gate request, takes
 * the reads queued when its slot comes (the oldest first, up to `maxOperations` range operations,
 * etcd's `--max-txn-ops`) and sends them as one Txn with no compares. Each read gets its own
 * slice of the answer, or the Txn's error. With a free slot the carrier is sent at once, with the
 * one read that asked for it: an idle client adds no delay and batches nothing. A read-only Txn is
 * linearizable like a range, and its ranges see one revision.
 *
 * @module
 */
import type { IRequestOp, IResponseOp } from 'etcd3';
import { readAcrossTermChanges } from './raft-term.js';
import type { RequestGate } from './request-gate.js';
import { TXN_TOO_MANY_OPERATIONS } from './to-registry-error.js';

/**
 * Sends one read-only Txn of `operations` with the given gRPC deadline (epoch ms) and resolves
 * with its responses, in order.
 */
export type SendReadTxn = (
  operations: readonly IRequestOp[],
  deadlineAtEpochMs: number,
) => Promise<ReadResult>;

/** What a read (and a Txn) answers. */
export interface ReadResult {
  /** The responses of the read's operations, in order. */
  readonly responses: readonly IResponseOp[];
  /** The store revision the read saw (the Txn's header revision). */
  readonly revision: bigint;
}

/**
 * Whether the server or the client refused a Txn for its size: more operations than the server's
 * `--max-txn-ops` (a lower limit than configured), or an answer larger than the client accepts.
 */
function refusedForSize(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return message.includes(TXN_TOO_MANY_OPERATIONS) || message.includes('larger than max');
}

/** Dependencies of a {@link ReadBatcher}. */
export interface ReadBatcherOptions {
  /** The client's request gate: every carrier is one request through it. */
  readonly gate: RequestGate;
  /** Sends one Txn (the batch). */
  readonly send: SendReadTxn;
  /** Range operations per Txn at most (etcd's `--max-txn-ops`), an integer ≥ 1. */
  readonly maxOperations: number;
  /** Deadline of one Txn, from when it is sent, in ms. */
  readonly requestTimeoutMs: number;
}

interface QueuedRead {
  readonly operations: readonly IRequestOp[];
  readonly resolve: (result: ReadResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Queues point reads and sends the ones waiting for the gate together (see the module docs). */
export class ReadBatcher {
  readonly #queue: QueuedRead[] = [];
  /** Range operations in {@link #queue}. */
  #queuedOperations = 0;
  /** Batches sent and not answered yet. */
  readonly #carried = new Set<QueuedRead[]>();
  /** Carriers waiting for a gate slot: each takes up to `maxOperations` when its slot comes. */
  #waitingCarriers = 0;

  /** @throws {RangeError} for a `maxOperations` that is not an integer ≥ 1. */
  constructor(private readonly options: ReadBatcherOptions) {
    if (!Number.isInteger(options.maxOperations) || options.maxOperations < 1)
      throw new RangeError(
        `ReadBatcher 'maxOperations' must be an integer >= 1, got ${options.maxOperations}`,
      );
  }

  /** Reads queued and not sent yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Reads `operations` (range operations only; at most `maxOperations` of them) in the next Txn
   * sent.
   *
   * @returns the responses of `operations`, in order.
   * @throws the error of the Txn that carried them (a term change is retried within its deadline).
   */
  read(operations: readonly IRequestOp[]): Promise<ReadResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ operations, resolve, reject });
      this.#queuedOperations += operations.length;
      this.#carryIfNeeded();
    });
  }

  /** Starts one more carrier while the waiting ones cannot take every queued read. */
  #carryIfNeeded(): void {
    if (this.#queuedOperations <= this.#waitingCarriers * this.options.maxOperations) return;
    this.#waitingCarriers += 1;
    // A request's failure reaches its reads through their own promises (see #send); a carrier
    // itself fails only when the gate is closed, and then so does every read not answered yet.
    this.options.gate
      .run(() => {
        this.#waitingCarriers -= 1;
        return this.#carry();
      })
      .catch((error: unknown) => this.#failAll(error));
  }

  /** Rejects every read queued or carried and not answered yet (the gate was closed). */
  #failAll(error: unknown): void {
    const reads = [...this.#queue, ...[...this.#carried].flat()];
    this.#queue.length = 0;
    this.#queuedOperations = 0;
    this.#carried.clear();
    for (const read of reads) read.reject(error);
  }

  /** Sends the reads queued now, the oldest first, as one Txn; settles each of them. */
  async #carry(): Promise<void> {
    const batch: QueuedRead[] = [];
    let operations = 0;
    for (const read of this.#queue) {
      if (batch.length > 0 && operations + read.operations.length > this.options.maxOperations) break;
      batch.push(read);
      operations += read.operations.length;
    }
    if (batch.length === 0) return;
    this.#queue.splice(0, batch.length);
    this.#queuedOperations -= operations;
    // A batch cut short by a read that did not fit leaves reads no waiting carrier covers.
    this.#carryIfNeeded();
    this.#carried.add(batch);
    try {
      await this.#send(batch);
    } finally {
      this.#carried.delete(batch);
    }
  }

  /**
   * Sends `batch` as one Txn and settles its reads. A batch refused for its size (see
   * {@link refusedForSize}) is sent again as two halves, one after the other, so that a read
   * fails for its size only when it does alone.
   */
  async #send(batch: readonly QueuedRead[]): Promise<void> {
    const sent =
      batch.length === 1 ? (batch[0] as QueuedRead).operations : batch.flatMap((r) => r.operations);
    let result: ReadResult;
    try {
      result = await readAcrossTermChanges(
        (deadline) => this.options.send(sent, deadline),
        Date.now() + this.options.requestTimeoutMs,
      );
    } catch (error) {
      if (batch.length > 1 && refusedForSize(error)) {
        const half = Math.ceil(batch.length / 2);
        await this.#send(batch.slice(0, half));
        await this.#send(batch.slice(half));
        return;
      }
      for (const read of batch) read.reject(error);
      return;
    }
    let offset = 0;
    for (const read of batch) {
      const end = offset + read.operations.length;
      read.resolve({ responses: result.responses.slice(offset, end), revision: result.revision });
      offset = end;
    }
  }
}
