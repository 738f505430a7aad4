/**
 * Counts the requests the clients of this test process hand to `node-zookeeper-client`, by
 * opcode, by patching its connection manager's `queue` (pings and auth packets left out).
 */
import { createRequire } from 'node:module';

/** Opcode of `exists`, as `node-zookeeper-client` numbers it. */
export const EXISTS_OPCODE = 3;

/** Read opcodes as `node-zookeeper-client` numbers them: exists, getData, getChildren, getChildren2. */
const READ_OPCODES = new Set([EXISTS_OPCODE, 4, 8, 12]);

/** Opcode of `multi`. */
const MULTI_OPCODE = 14;

interface QueuedRequest {
  readonly type: number;
}

/** What {@link countRequests} returns. */
export interface RequestCounter {
  /** Reads of the clients that sent no `multi` (the watchers), or of every client if `ofWriters`. */
  reads(ofWriters: boolean): number;
  /** Every request counted so far. */
  all(): number;
  /** Requests of one opcode counted so far. */
  ofType(opcode: number): number;
  /** Restores the library's `queue`. */
  stop(): void;
}

/** Starts counting; call `stop()` when done (in a `finally`). */
export function countRequests(): RequestCounter {
  const require = createRequire(import.meta.url);
  const manager = require('node-zookeeper-client/lib/ConnectionManager.js') as {
    prototype: { queue(request: { header?: QueuedRequest | null }, callback?: unknown): unknown };
  };
  const original = manager.prototype.queue;
  const seen: Array<{ by: unknown; type: number }> = [];
  manager.prototype.queue = function (this: unknown, request, callback) {
    const type = request.header?.type;
    if (type !== undefined && type !== 11 /* ping */ && type !== 100 /* auth */)
      seen.push({ by: this, type });
    return original.call(this, request, callback);
  };
  return {
    reads: (ofWriters) => {
      const writers = new Set(seen.filter((entry) => entry.type === MULTI_OPCODE).map((entry) => entry.by));
      return seen.filter((entry) => READ_OPCODES.has(entry.type) && (ofWriters || !writers.has(entry.by)))
        .length;
    },
    all: () => seen.length,
    ofType: (opcode) => seen.filter((entry) => entry.type === opcode).length,
    stop: () => {
      manager.prototype.queue = original;
    },
  };
}
