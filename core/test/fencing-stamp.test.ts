import { describe, expect, it } from 'vitest';
import {
  fireAlreadyServed,
  formatFencingStamp,
  nextFencingStamp,
  parseFencingStamp,
} from '../src/kernel/execution/fencing-stamp.js';

describe('fencing stamp (the value of sharding/{item}/fencing)', () => {
  it('reads an absent node, a plain counter and a counter with a fire', () => {
    expect(parseFencingStamp(undefined)).toEqual({ token: 0 });
    expect(parseFencingStamp('7')).toEqual({ token: 7 });
    expect(parseFencingStamp('7@1767225612000')).toEqual({ token: 7, lastFireTimeMs: 1767225612000 });
    expect(parseFencingStamp('7@')).toEqual({ token: 7 });
  });

  it('writes what it reads', () => {
    for (const value of ['1', '12@1767225612000'])
      expect(formatFencingStamp(parseFencingStamp(value))).toBe(value);
  });

  it('advances the counter, records a cron fire and keeps it through runs that serve none', () => {
    const first = nextFencingStamp(parseFencingStamp(undefined), 10_000);
    expect(first).toEqual({ token: 1, lastFireTimeMs: 10_000 });
    const misfire = nextFencingStamp(first);
    expect(misfire).toEqual({ token: 2, lastFireTimeMs: 10_000 });
    // A fire older than the recorded one (it was refused) never moves the record back.
    expect(nextFencingStamp(misfire, 5_000)).toEqual({ token: 3, lastFireTimeMs: 10_000 });
    expect(nextFencingStamp({ token: 4 })).toEqual({ token: 5 });
  });

  it('refuses a cron run for the recorded fire or an earlier one, never a run that serves no fire', () => {
    const stamp = { token: 3, lastFireTimeMs: 10_000 };
    expect(fireAlreadyServed(stamp, 10_000)).toBe(true);
    expect(fireAlreadyServed(stamp, 9_000)).toBe(true);
    expect(fireAlreadyServed(stamp, 11_000)).toBe(false);
    expect(fireAlreadyServed(stamp, undefined)).toBe(false);
    expect(fireAlreadyServed({ token: 3 }, 10_000)).toBe(false);
  });
});
