/**
 * {@link CoordinationQueue}: the order in which the jobs of one process elect and reshard when many
 * of them must at once.
 *
 * When an instance of every job in a process disappears (a peer process died), each job of the
 * process elects (where the peer led) and reshards, and the jobs that had items running on the
 * peer claim them for failover, all in the same second. Each election and each resharding is a
 * chain of a dozen registry calls made one after the other. Started together, the chains of
 * 10,000 jobs share the registry client round-robin: every chain advances one call per round, so
 * every resharding ends near the end of the whole burst, failover claims wait behind them, and a
 * job that fires early has no assignment until everything is done. The queue runs at most
 * {@link MAX_CONCURRENT_COORDINATION} of these chains at once and starts the one whose job fires
 * soonest first, so reshardings end in the order their jobs need them, and the rest of the client's
 * capacity stays with the fire path and failover claims, which do not pass the queue.
 *
 * ElasticJob has no such order: it reshards lazily at each job's next fire, so its reshardings are
 * spread over the jobs' periods but delay the fire that does them.
 *
 * One queue per timer service, so per process by default, like the admission lead: jobs often get
 * their own wrapper of one registry client (metrics, call counting), so the registry object does not
 * tell which jobs share a client. The jobs of a process on two registries share the queue too; a
 * task holds its turn at most as long as its registry calls take, which the adapters bound by their
 * timeouts.
 *
 * @module
 */
import { DueHeap } from './due-heap.js';
import type { TimerService } from './timer-service.js';

/** Elections and reshardings one process runs at once, at most. */
export const MAX_CONCURRENT_COORDINATION = 1024;

/**
 * Runs one coordination task of a job in its turn on the process's {@link CoordinationQueue}, due at
 * the job's next fire.
 */
export type CoordinationTurn = <T>(task: () => Promise<T>, dueMs?: number) => Promise<T>;

const QUEUES = new WeakMap<TimerService, CoordinationQueue>();

interface Waiting {
  readonly dueMs: number;
  readonly seq: number;
  readonly start: () => void;
}

/** Runs coordination tasks, at most `maxConcurrent` at once, the most urgent first. */
export class CoordinationQueue {
  #running = 0;
  #seq = 0;
  readonly #heap = new DueHeap<Waiting>();

  /**
   * @param maxConcurrent - tasks running at once, at most (an integer ≥ 1).
   * @throws {RangeError} for another value.
   */
  constructor(readonly maxConcurrent: number = MAX_CONCURRENT_COORDINATION) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1)
      throw new RangeError(`CoordinationQueue 'maxConcurrent' must be an integer >= 1, got ${maxConcurrent}`);
  }

  /**
   * The queue shared by every job on `timers` (created on first use).
   *
   * @param timers - the jobs' timer service (the process's default one unless a job was given its own).
   */
  static of(timers: TimerService): CoordinationQueue {
    let queue = QUEUES.get(timers);
    if (queue === undefined) {
      queue = new CoordinationQueue();
      QUEUES.set(timers, queue);
    }
    return queue;
  }

  /**
   * Makes `queue` the queue of the jobs on `timers` from now on (a smaller bound for tests and
   * simulations). Jobs already started keep the queue they took.
   */
  static use(timers: TimerService, queue: CoordinationQueue): void {
    QUEUES.set(timers, queue);
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for their turn. */
  get waiting(): number {
    return this.#heap.size;
  }

  /**
   * Runs `task` now if fewer than `maxConcurrent` run, else once it is the most urgent waiting task
   * and one ends. Among waiting tasks the smallest `dueMs` goes first, equal ones in arrival order.
   *
   * @param dueMs - when the task's result is needed, epoch ms: the job's next fire time, or
   *   `Number.POSITIVE_INFINITY` when the job has none (it goes after every task that has one).
   * @param task - the coordination to run; called once.
   * @returns what `task` returns; its rejection is passed on.
   */
  async run<T>(dueMs: number, task: () => Promise<T>): Promise<T> {
    if (this.#running < this.maxConcurrent) this.#running += 1;
    else await new Promise<void>((start) => this.#heap.push({ dueMs, seq: this.#seq++, start }));
    try {
      return await task();
    } finally {
      const next = this.#heap.pop();
      // The slot passes to the most urgent waiting task, or is freed.
      if (next !== undefined) next.start();
      else this.#running -= 1;
    }
  }
}
