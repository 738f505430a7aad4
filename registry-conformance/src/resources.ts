/**
 * Tracking the resources that keep Node.js alive (referenced timers, sockets, pipes), to prove that
 * `close()` leaves none behind.
 *
 * @module
 */
import { createHook } from 'node:async_hooks';

/**
 * `async_hooks` resource types a registry client could leak and that keep the event loop alive
 * while referenced: timers, TCP/pipe/UDP handles, TLS sessions, HTTP/2 sessions.
 */
export const TRACKED_RESOURCE_TYPES: readonly string[] = [
  'Timeout',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'UDPWRAP',
  'TLSWRAP',
  'HTTP2SESSION',
];

/** A tracked resource that is still alive and referenced. */
export interface LiveResource {
  /** `async_hooks` type, e.g. `Timeout` or `TCPWRAP`. */
  readonly type: string;
  /** Stack trace at creation (first frames outside Node internals), for the failure message. */
  readonly createdAt: string;
}

interface Entry {
  readonly type: string;
  readonly resource: object;
  readonly stack: string;
}

/**
 * Whether a tracked resource that has not been destroyed yet can no longer keep the process alive.
 *
 * - Handles (timers, TCP/pipe/UDP handles) answer `hasRef()`: `false` once unreferenced or closed.
 *   Their answer is authoritative, so an open socket counts even when its owning `net.Socket` was
 *   already destroyed and the handle is still closing.
 * - Resources without `hasRef()` (`HTTP2SESSION`, `TLSWRAP`) are native objects whose `destroy`
 *   hook only runs when they are garbage-collected — never while this tracker references them. They
 *   point to the JavaScript object that owns them through an own symbol property described as
 *   `'owner_symbol'` (Node's `owner_symbol`): a `ClientHttp2Session`/`ServerHttp2Session` or a
 *   `TLSSocket`. Once that owner is `destroyed`, its socket is closed (the socket's own `TCPWRAP`
 *   is tracked separately) and the resource is released. An owner that cannot be found or is not
 *   destroyed counts as live.
 */
function isReleased(resource: object): boolean {
  const hasRef = (resource as { hasRef?: unknown }).hasRef;
  if (typeof hasRef === 'function') return !hasRef.call(resource);
  const owner = ownerOf(resource);
  return typeof owner === 'object' && owner !== null && (owner as { destroyed?: unknown }).destroyed === true;
}

/** The JavaScript owner Node stores on a native resource under its `owner_symbol`, if any. */
function ownerOf(resource: object): unknown {
  const symbol = Object.getOwnPropertySymbols(resource).find(
    (candidate) => candidate.description === 'owner_symbol',
  );
  return symbol === undefined ? undefined : (resource as Record<symbol, unknown>)[symbol];
}

/**
 * Records every resource of a {@link TRACKED_RESOURCE_TYPES} type created between construction and
 * {@link ResourceTracker.stop}, and reports those that are neither destroyed nor released: timers
 * and handles that are still referenced, HTTP/2 and TLS sessions whose owning session or socket is
 * not destroyed yet.
 * Unlike comparing global counts, resources created or released by unrelated code (earlier tests,
 * the test runner) cannot mask a leak.
 *
 * @example
 * ```ts
 * const tracker = new ResourceTracker();
 * const client = create(); await client.start(); ...; await client.close();
 * tracker.stop();
 * await waitForCondition(() => tracker.live().length === 0, { timeoutMs: 5_000 });
 * ```
 */
export class ResourceTracker {
  readonly #entries = new Map<number, Entry>();
  readonly #hook = createHook({
    init: (asyncId, type, _triggerAsyncId, resource) => {
      if (!this.#recording || !TRACKED_RESOURCE_TYPES.includes(type)) return;
      const stack = (new Error().stack ?? '')
        .split('\n')
        .slice(1)
        .filter((line) => !line.includes('node:') && !line.includes('resources.ts'))
        .slice(0, 6)
        .join('\n');
      this.#entries.set(asyncId, { type, resource, stack });
    },
    destroy: (asyncId) => {
      this.#entries.delete(asyncId);
    },
  });
  #recording = true;

  /** Starts recording at once. */
  constructor() {
    this.#hook.enable();
  }

  /** Stops recording new resources; destruction of recorded ones is still observed until {@link dispose}. */
  stop(): void {
    this.#recording = false;
  }

  /**
   * The recorded resources still alive and referenced (they would keep the process alive).
   *
   * @returns one entry per live resource; empty when everything was released.
   */
  live(): LiveResource[] {
    const result: LiveResource[] = [];
    for (const entry of this.#entries.values()) {
      if (isReleased(entry.resource)) continue;
      result.push({ type: entry.type, createdAt: entry.stack });
    }
    return result;
  }

  /** Disables the hook and forgets everything. Idempotent. */
  dispose(): void {
    this.#recording = false;
    this.#hook.disable();
    this.#entries.clear();
  }
}
