/**
 * Fault-handling policies handed to `etcd3` instead of its defaults (a 5 s circuit breaker per
 * host and three blind retries), which would hide an outage for seconds after the server is back
 * and could re-apply a non-idempotent request. Our policies: a call is tried once per endpoint,
 * moving to the next endpoint only when the previous one was unavailable; watch streams reconnect
 * with a short, capped exponential backoff.
 *
 * @module
 */
import { GRPCUnavailableError, type IOptions } from 'etcd3';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = ReturnType<NonNullable<FaultHandling['host']>>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;
type PolicyContext = Parameters<Parameters<Policy['execute']>[0]>[0];

const noEvent = () => ({ dispose: () => undefined });

/**
 * The signal handed to calls run without one. `etcd3` does not read it, and these policies never
 * abort it, so one shared signal serves every call (an `AbortController` per call was 1.5 % of a
 * busy client's CPU).
 */
const NEVER_ABORTED: AbortSignal = new AbortController().signal;

function policy(
  execute: <T>(fn: (context: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal) => Promise<T>,
): Policy {
  return { execute, onSuccess: noEvent, onFailure: noEvent } as unknown as Policy;
}

/** A policy that just runs the call (no circuit breaker). */
export function passthroughPolicy(): Policy {
  return policy(async (fn, signal) => fn({ signal: signal ?? NEVER_ABORTED }));
}

/**
 * A policy that retries a call up to `maxAttempts` times in total, only when it failed with
 * `UNAVAILABLE` (the request never reached a server); `etcd3` picks another endpoint per attempt.
 *
 * @param maxAttempts - total attempts, usually the number of endpoints.
 */
export function retryUnavailablePolicy(maxAttempts: number): Policy {
  return policy(async (fn, signal) => {
    const context = { signal: signal ?? NEVER_ABORTED };
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(context);
      } catch (error) {
        if (attempt >= maxAttempts || !(error instanceof GRPCUnavailableError)) throw error;
      }
    }
  });
}

/**
 * Exponential backoff for watch-stream reconnects: `initialMs`, doubling, capped at `maxMs`.
 *
 * @param initialMs - first delay, in ms.
 * @param maxMs - largest delay, in ms.
 */
export function cappedExponentialBackoff(initialMs: number, maxMs: number): Backoff {
  const make = (durationMs: number): Backoff =>
    ({ duration: durationMs, next: () => make(Math.min(maxMs, durationMs * 2)) }) as Backoff;
  return { next: () => make(initialMs) } as unknown as Backoff;
}
