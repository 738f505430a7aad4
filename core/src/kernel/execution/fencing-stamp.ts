/**
 * The value of an item's `sharding/{item}/fencing` node: the fencing counter, and the scheduled
 * time of the last cron fire a run of the item served, written together by the compare-and-set
 * that admits a run. One value, so that one compare-and-set both orders the item's runs (the
 * token) and makes "this fire of this item has run" a fact of the registry: an admission for a
 * fire at or before the recorded one is refused, wherever it comes from (a fire served late on a
 * stalled process, or an instance that waited for a resharding that moved the item after its
 * previous owner had run it for the same fire).
 *
 * Format: `{token}` or `{token}@{lastFireTimeMs}` (decimal; epoch ms). A plain counter, as written
 * before the fire was recorded, reads as a counter with no fire.
 *
 * @module
 */

/** A parsed fencing node value. */
export interface FencingStamp {
  /** The fencing counter: the token of the last run admitted (0 when the node is absent). */
  readonly token: number;
  /** Scheduled time (epoch ms) of the last cron fire served by a run of the item, if any. */
  readonly lastFireTimeMs?: number;
}

/**
 * Parses a fencing node value; an absent node is token 0 with no fire.
 *
 * @param value - the node's value, `undefined` when it is absent.
 */
export function parseFencingStamp(value: string | undefined): FencingStamp {
  if (value === undefined) return { token: 0 };
  const at = value.indexOf('@');
  const token = Number.parseInt(at < 0 ? value : value.slice(0, at), 10) || 0;
  if (at < 0) return { token };
  const lastFireTimeMs = Number.parseInt(value.slice(at + 1), 10);
  return Number.isFinite(lastFireTimeMs) ? { token, lastFireTimeMs } : { token };
}

/** The node value of `stamp` (see the module's format). */
export function formatFencingStamp(stamp: FencingStamp): string {
  return stamp.lastFireTimeMs === undefined ? String(stamp.token) : `${stamp.token}@${stamp.lastFireTimeMs}`;
}

/**
 * The stamp a newly admitted run writes: the next token, and the fire it serves recorded (a run
 * that serves no cron fire keeps the recorded one).
 *
 * @param current - the stamp read.
 * @param scheduledFireTimeMs - the fire a cron run serves; `undefined` for other runs.
 */
export function nextFencingStamp(current: FencingStamp, scheduledFireTimeMs?: number): FencingStamp {
  const lastFireTimeMs =
    scheduledFireTimeMs === undefined
      ? current.lastFireTimeMs
      : Math.max(scheduledFireTimeMs, current.lastFireTimeMs ?? Number.NEGATIVE_INFINITY);
  return lastFireTimeMs === undefined
    ? { token: current.token + 1 }
    : { token: current.token + 1, lastFireTimeMs };
}

/**
 * Whether a run serving the fire scheduled at `scheduledFireTimeMs` must be refused: a run of the
 * item already served that fire or a later one.
 */
export function fireAlreadyServed(current: FencingStamp, scheduledFireTimeMs: number | undefined): boolean {
  return (
    scheduledFireTimeMs !== undefined &&
    current.lastFireTimeMs !== undefined &&
    current.lastFireTimeMs >= scheduledFireTimeMs
  );
}
