/**
 * Requests in flight across a raft leader change.
 *
 * A follower forwards a write (a raft proposal) to the leader it knows. When that leader has just
 * died, the proposal is lost and etcd never answers the request: it waits for the server's own
 * request timeout (5 s + 2 × the election timeout) or for the client's deadline, whichever comes
 * first, although a new leader serves requests about one election timeout after the kill. A job
 * whose registry call is stuck that way misses every fire until then.
 *
 * Every etcd response header carries the raft term of the member that answered, and the term
 * grows with every election. {@link RaftTermTracker} follows the highest term seen in any response
 * (unary calls, the session's keep-alive stream, watch streams). When a response shows a term
 * higher than the one a unary request was sent under, that request is cancelled at once: it fails
 * like a request that reached its deadline (`CONNECTION_LOSS`, outcome unknown: the new leader may
 * have committed it or not), as a ZooKeeper request in flight when the connection is lost does.
 * Requests sent while no term is known yet are left to their deadline.
 *
 * The cancellation uses the gRPC status `FAILED_PRECONDITION`, which `etcd3` neither retries nor
 * counts as a host failure: the member that held the request is alive and keeps its connections.
 *
 * The client cannot tell a request the dead leader lost from one sent after the election by a
 * client that had not seen the new term yet: both are cancelled. For a write that is the honest
 * `CONNECTION_LOSS` (outcome unknown). A read changes nothing, so {@link readAcrossTermChanges}
 * sends a cancelled read again, under the new term, until the read's deadline: a read fails only
 * when no answer came within its deadline, as before the cancellation existed.
 *
 * @module
 */
import { InterceptingCall, type Interceptor, status } from '@grpc/grpc-js';

/** Text of the status a request cancelled by {@link RaftTermTracker} fails with. */
export const TERM_CHANGED_DETAILS = 'etcd raft term changed while the request was in flight (leader change)';

/**
 * Whether `error` is a request {@link RaftTermTracker} cancelled because a leader change may have
 * lost it (as `etcd3` rejects it: the gRPC status is cast, its details kept in the message).
 *
 * @param error - anything an `etcd3` call rejected with.
 */
export function isTermChangeCancellation(error: unknown): boolean {
  return error instanceof Error && error.message.includes(TERM_CHANGED_DETAILS);
}

/**
 * Runs a read and sends it again each time {@link RaftTermTracker} cancelled it: the read changed
 * nothing, and the next attempt goes out under the new term, so only a further election can cancel
 * it. Every attempt shares one deadline, so the read as a whole is bounded as one request is.
 *
 * @param read - sends the read with the given gRPC deadline (epoch ms, `Date.now()` clock).
 * @param deadlineAtEpochMs - deadline of the whole read, epoch ms.
 * @returns what the first attempt not cancelled by a term change resolved with.
 * @throws whatever an attempt rejected with, other than a term-change cancellation; the
 *   cancellation itself once the deadline has passed.
 */
export async function readAcrossTermChanges<T>(
  read: (deadlineAtEpochMs: number) => Promise<T>,
  deadlineAtEpochMs: number,
): Promise<T> {
  for (;;) {
    try {
      return await read(deadlineAtEpochMs);
    } catch (error) {
      if (!isTermChangeCancellation(error) || Date.now() >= deadlineAtEpochMs) throw error;
    }
  }
}

/** Follows the raft term of etcd's answers and cancels unary requests a leader change left behind. */
export class RaftTermTracker {
  private termValue: number | undefined;
  /** Unary calls waiting for their answer, with the term known when each was sent. */
  private readonly inFlight = new Map<InterceptingCall, number>();

  /**
   * @param onCancelled - called after a term change cancelled requests, with how many and the new
   *   term (for a log line).
   */
  constructor(private readonly onCancelled: (cancelled: number, term: number) => void = () => undefined) {}

  /**
   * Interceptor of unary calls: records the call with the current term, observes the term of its
   * answer, and lets {@link observeTerm} cancel it.
   */
  readonly unaryInterceptor: Interceptor = (options, nextCall) => {
    const sentUnder = this.termValue;
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        next(metadata, {
          onReceiveMessage: (message, nextMessage) => {
            this.inFlight.delete(call); // answered: a term seen from here on cannot cancel it
            this.observeResponse(message);
            nextMessage(message);
          },
          onReceiveStatus: (callStatus, nextStatus) => {
            this.inFlight.delete(call);
            nextStatus(callStatus);
          },
        });
      },
    });
    if (sentUnder !== undefined) this.inFlight.set(call, sentUnder);
    return call;
  };

  /** Interceptor of streams (keep-alive, watch): observes the term of every message received. */
  readonly streamInterceptor: Interceptor = (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        next(metadata, {
          onReceiveMessage: (message, nextMessage) => {
            this.observeResponse(message);
            nextMessage(message);
          },
        });
      },
    });

  /** How many unary requests sent under a known term await their answer (diagnostics, tests). */
  get inFlightRequests(): number {
    return this.inFlight.size;
  }

  /** The highest raft term seen in an answer, or `undefined` before the first one. */
  get term(): number | undefined {
    return this.termValue;
  }

  /**
   * Records a term seen in an answer; when it is higher than the term a unary request in flight
   * was sent under, cancels that request.
   *
   * @param term - the raft term of a response header.
   */
  observeTerm(term: number): void {
    if (!Number.isFinite(term) || (this.termValue !== undefined && term <= this.termValue)) return;
    this.termValue = term;
    const stale = [...this.inFlight].filter(([, sentUnder]) => sentUnder < term).map(([call]) => call);
    for (const call of stale) {
      this.inFlight.delete(call);
      call.cancelWithStatus(status.FAILED_PRECONDITION, TERM_CHANGED_DETAILS);
    }
    if (stale.length > 0) this.onCancelled(stale.length, term);
  }

  private observeResponse(message: unknown): void {
    const header = (message as { header?: { raft_term?: unknown } } | null)?.header;
    if (header?.raft_term === undefined || header.raft_term === null) return;
    this.observeTerm(Number(header.raft_term));
  }
}
