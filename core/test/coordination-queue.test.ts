import { describe, expect, it } from 'vitest';
import { ManualClock, TimerService } from '../src/index.js';
import { CoordinationQueue, MAX_CONCURRENT_COORDINATION } from '../src/kernel/coordination-queue.js';

/** A task that runs until `release()` and records when it started. */
function held(started: number[], id: number): { task: () => Promise<number>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    task: async () => {
      started.push(id);
      await done;
      return id;
    },
    release,
  };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CoordinationQueue', () => {
  it('runs at most maxConcurrent tasks at once', async () => {
    const queue = new CoordinationQueue(2);
    const started: number[] = [];
    const tasks = [0, 1, 2, 3].map((id) => held(started, id));
    const results = tasks.map((t, i) => queue.run(i, t.task));
    await settle();
    expect(started).toEqual([0, 1]);
    expect(queue.running).toBe(2);
    expect(queue.waiting).toBe(2);
    tasks[1]?.release();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    tasks[0]?.release();
    tasks[2]?.release();
    tasks[3]?.release();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
    expect(queue.running).toBe(0);
    expect(queue.waiting).toBe(0);
  });

  it('starts the waiting task due first, equal ones in arrival order, undated ones last', async () => {
    const queue = new CoordinationQueue(1);
    const started: number[] = [];
    const first = held(started, 0);
    const running = queue.run(0, first.task);
    const dues = [50, Number.POSITIVE_INFINITY, 10, 30, 10, 20];
    const waiting = dues.map((due, i) => {
      const t = held(started, i + 1);
      t.release();
      return queue.run(due, t.task);
    });
    await settle();
    first.release();
    await Promise.all([running, ...waiting]);
    // Due 10 (ids 3 and 5, arrival order), 20, 30, 50, then the task without a due time.
    expect(started).toEqual([0, 3, 5, 6, 4, 1, 2]);
  });

  it('passes a task rejection on and gives its slot to the next task', async () => {
    const queue = new CoordinationQueue(1);
    const failing = queue.run(0, () => Promise.reject(new Error('registry down')));
    const next = queue.run(0, async () => 'ran');
    await expect(failing).rejects.toThrow('registry down');
    await expect(next).resolves.toBe('ran');
    expect(queue.running).toBe(0);
  });

  it('refuses a bound that is not an integer >= 1, naming it', () => {
    expect(() => new CoordinationQueue(0)).toThrow(/'maxConcurrent' must be an integer >= 1, got 0/);
    expect(() => new CoordinationQueue(1.5)).toThrow(RangeError);
    expect(new CoordinationQueue().maxConcurrent).toBe(MAX_CONCURRENT_COORDINATION);
  });

  it('is one per timer service: the jobs of a process share it', () => {
    const timers = new TimerService(new ManualClock(0));
    expect(CoordinationQueue.of(timers)).toBe(CoordinationQueue.of(timers));
    expect(CoordinationQueue.of(timers)).not.toBe(CoordinationQueue.of(new TimerService(new ManualClock(0))));
  });
});
