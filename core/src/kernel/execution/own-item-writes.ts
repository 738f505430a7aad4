/**
 * What this instance itself last committed on an item's `running` mark and fencing counter, so
 * that its next admission plans on its own writes instead of waiting for their watch events.
 *
 * The admission gate compares `running` and `sharding/{item}/fencing` with the values it expects
 * (see {@link AdmissionService}); it used to take them from the watch cache alone. A job firing
 * every second writes both nodes on every fire (admission) and deletes `running` at the end of the
 * run, so its next admission needs the events of its own last two transactions. When the watch
 * events lag by about a second (1,000 jobs firing every second on one etcd client), every
 * admission compared stale values, failed, and fell back to direct reads and a second transaction:
 * 5–7 more registry calls per fire, which made the events lag further.
 *
 * The record is only a better guess of the server's state: every expected value is still compared
 * by the server in the admission transaction, so a wrong guess costs the same fallback as a stale
 * cache, never a wrong admission. The record yields to the cache as soon as the cache shows the
 * recorded state or anything after it (a higher fencing counter, another instance's mark).
 *
 * @module
 */

import { type FencingStamp, formatFencingStamp, parseFencingStamp } from './fencing-stamp.js';

/** The state of an item's nodes as this instance last wrote them. */
interface ItemWrite {
  /** The `running` mark's value after the write (`undefined`: deleted). */
  readonly running: string | undefined;
  /** The fencing node's value after the write. */
  readonly fencing: FencingStamp;
}

/** What the admission plans on: values of `running` and `fencing` (`undefined`: absent). */
export interface KnownItemNodes {
  readonly running?: string;
  readonly fencing?: string;
}

/** This instance's last committed writes of items' `running` marks and fencing counters. */
export class OwnItemWrites {
  readonly #items = new Map<number, ItemWrite>();

  /**
   * Records an admission this instance committed: `running` names it and the fencing node holds
   * `stamp`.
   *
   * @param item - the item.
   * @param stamp - the run's fencing stamp (the node's new value).
   * @param instanceId - this job instance's id (the mark's value).
   */
  admitted(item: number, stamp: FencingStamp, instanceId: string): void {
    this.#items.set(item, { running: instanceId, fencing: stamp });
  }

  /**
   * Records that this instance deleted the item's `running` mark under fencing stamp `stamp`
   * (the counter unchanged). Ignored when a later admission of this instance is recorded.
   *
   * @param item - the item.
   * @param stamp - the fencing stamp the deletion compared.
   */
  cleared(item: number, stamp: FencingStamp): void {
    const recorded = this.#items.get(item);
    if (recorded !== undefined && recorded.fencing.token > stamp.token) return;
    this.#items.set(item, { running: undefined, fencing: stamp });
  }

  /**
   * Forgets what was recorded for `item` (its nodes were found or made otherwise: a failed
   * comparison, a direct read, a deletion by a scan).
   *
   * @param item - the item.
   */
  forget(item: number): void {
    this.#items.delete(item);
  }

  /**
   * The values to plan an admission on: the cache's, unless the cache has not yet shown this
   * instance's last write of the item, in which case the recorded ones.
   *
   * @param item - the item.
   * @param cached - `running` and `fencing` as the watch cache holds them.
   * @param instanceId - this job instance's id.
   * @returns the values to expect.
   */
  resolve(item: number, cached: KnownItemNodes, instanceId: string): KnownItemNodes {
    const recorded = this.#items.get(item);
    if (recorded === undefined) return cached;
    const cachedToken = cached.fencing === undefined ? -1 : parseFencingStamp(cached.fencing).token;
    const fencing = formatFencingStamp(recorded.fencing);
    const own: KnownItemNodes =
      recorded.running === undefined ? { fencing } : { running: recorded.running, fencing };
    const recordedToken = recorded.fencing.token;
    if (cachedToken < recordedToken) return own; // the cache has not seen the write yet
    if (cachedToken === recordedToken) {
      // Same token: the admission's write is seen; the deletion of our own mark may not be yet.
      if (recorded.running === undefined && cached.running === instanceId) return own;
      // The cache shows our write (or another change of the mark at this token): it leads again.
    }
    // The cache shows our write or what came after it.
    this.#items.delete(item);
    return cached;
  }
}
