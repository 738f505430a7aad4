import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, ManualClock, systemClock, TimerService } from '../src/index.js';

describe('TimerService', () => {
  it('fires callbacks in due order, ties in scheduling order, on one underlying timer', async () => {
    const clock = new ManualClock(0);
    const timers = new TimerService(clock);
    const fired: string[] = [];
    timers.scheduleAt(300, () => fired.push('c'));
    timers.scheduleAt(100, () => fired.push('a1'));
    timers.scheduleAt(100, () => fired.push('a2'));
    timers.scheduleAt(200, () => fired.push('b'));
    expect(clock.pendingTimerCount).toBe(1);
    expect(timers.size).toBe(4);
    await clock.advance(250);
    expect(fired).toEqual(['a1', 'a2', 'b']);
    await clock.advance(50);
    expect(fired).toEqual(['a1', 'a2', 'b', 'c']);
    expect(timers.size).toBe(0);
    expect(clock.pendingTimerCount).toBe(0);
  });

  it('cancels, re-arms for an earlier entry, and survives a throwing callback', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const timers = new TimerService(clock, (error) => errors.push(error));
    const fired: string[] = [];
    const late = timers.scheduleAt(1000, () => fired.push('late'));
    timers.scheduleAt(10, () => {
      throw new Error('boom');
    });
    timers.scheduleAt(20, () => fired.push('after-throw'));
    late.cancel();
    late.cancel();
    await clock.advance(2000);
    expect(fired).toEqual(['after-throw']);
    expect(errors).toHaveLength(1);
    expect(timers.size).toBe(0);
  });

  it('runs a callback scheduled in the past as soon as possible', async () => {
    const clock = new ManualClock(1000);
    const timers = new TimerService(clock);
    const fired: number[] = [];
    timers.scheduleAt(500, () => fired.push(clock.now()));
    await clock.advance(0);
    expect(fired).toEqual([1000]);
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('honours delays beyond the 2^31-1 ms timer limit by chaining timers', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    const delayMs = 40 * 24 * 3_600_000; // 40 days > 24.8 days
    expect(delayMs).toBeGreaterThan(MAX_TIMER_DELAY_MS);
    systemClock.setTimeout(() => fired.push(Date.now()), delayMs);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]); // a plain setTimeout would have overflowed to 1 ms and fired long ago
    vi.advanceTimersByTime(delayMs - MAX_TIMER_DELAY_MS - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([delayMs]);
  });

  it('cancels a chained timer', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    const timer = systemClock.setTimeout(() => fired.push(1), MAX_TIMER_DELAY_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 10);
    timer.cancel();
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS * 2);
    expect(fired).toEqual([]);
  });
});
