import { describe, expect, it } from 'vitest';
import { ProcessClock, SimulatedTime } from '../src/simulated-time.js';

const EPOCH = Date.UTC(2026, 0, 1);

describe('SimulatedTime and ProcessClock', () => {
  it('fires events in due order, ties in scheduling order, and lets their microtasks settle', async () => {
    const time = new SimulatedTime(EPOCH);
    const log: string[] = [];
    time.setTimeout(() => log.push('b@20'), 20);
    time.setTimeout(() => {
      log.push('a@10');
      void Promise.resolve().then(() => log.push('a microtask'));
    }, 10);
    time.setTimeout(() => log.push('c@20'), 20);
    await time.runUntil(EPOCH + 100);
    expect(log).toEqual(['a@10', 'a microtask', 'b@20', 'c@20']);
    expect(time.now()).toBe(EPOCH + 100);
  });

  it('skews a process clock: now() is offset, timers stay relative', async () => {
    const time = new SimulatedTime(EPOCH);
    const clock = new ProcessClock(time, 250);
    expect(clock.now()).toBe(EPOCH + 250);
    let firedAt: number | undefined;
    clock.setTimeout(() => {
      firedAt = time.now();
    }, 1000);
    await time.runUntil(EPOCH + 2000);
    expect(firedAt).toBe(EPOCH + 1000);
  });

  it('holds the timers of a frozen process and fires them in order on resume', async () => {
    const time = new SimulatedTime(EPOCH);
    const frozen = new ProcessClock(time, 0);
    const other = new ProcessClock(time, 0);
    const log: string[] = [];
    frozen.setTimeout(() => log.push(`frozen 1 at ${time.now() - EPOCH}`), 100);
    frozen.setTimeout(() => log.push(`frozen 2 at ${time.now() - EPOCH}`), 200);
    other.setTimeout(() => log.push(`other at ${time.now() - EPOCH}`), 150);
    frozen.freeze();
    time.setTimeout(() => frozen.resume(), 5000);
    await time.runUntil(EPOCH + 10_000);
    expect(log).toEqual(['other at 150', 'frozen 1 at 5000', 'frozen 2 at 5000']);
    expect(frozen.pendingTimerCount).toBe(0);
  });

  it('never fires the timers of a killed process, and cancelled timers never fire', async () => {
    const time = new SimulatedTime(EPOCH);
    const clock = new ProcessClock(time, 0);
    const log: string[] = [];
    const cancelled = clock.setTimeout(() => log.push('cancelled'), 10);
    cancelled.cancel();
    expect(clock.pendingTimerCount).toBe(0);
    clock.setTimeout(() => log.push('killed'), 20);
    clock.kill();
    clock.setTimeout(() => log.push('after kill'), 5);
    await time.runUntil(EPOCH + 100);
    expect(log).toEqual([]);
  });
});
