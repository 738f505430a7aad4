/**
 * Cron firing: arms the next fire on the shared timer service and hands each fire to the run
 * lanes. Rescheduled when the cron or time zone changes in the registry.
 *
 * @module
 */
import type { CronExpression } from '../../cron/index.js';
import type { RunLanes } from '../execution/run-lanes.js';
import type { JobContext } from '../job-context.js';
import type { ScheduledTimer, TimerService } from '../timer-service.js';

/** The next cron fire of one job on this instance. */
export class FireScheduler {
  #next: ScheduledTimer | undefined;
  #nextFireTimeMs: number | undefined;

  constructor(
    private readonly context: JobContext,
    private readonly timers: TimerService,
    private readonly lanes: RunLanes,
    private readonly cron: () => CronExpression | undefined,
    private readonly started: () => boolean,
  ) {}

  /** Next scheduled fire time (epoch ms), if any. */
  get nextFireTimeMs(): number | undefined {
    return this.#nextFireTimeMs;
  }

  /** Arms the next fire after now (replacing any armed one). */
  schedule(): void {
    this.cancel();
    const cron = this.cron();
    if (cron === undefined || !this.started()) return;
    const next = cron.next(new Date(this.timers.clock.now()));
    if (next === undefined) {
      this.context.logger.info('cron has no future fire time; the job will not fire again');
      return;
    }
    const fireTimeMs = next.getTime();
    this.#nextFireTimeMs = fireTimeMs;
    this.#next = this.timers.scheduleAt(fireTimeMs, () => {
      if (!this.started()) return;
      this.schedule();
      this.lanes.fire(fireTimeMs);
    });
  }

  /** Cancels the armed fire. */
  cancel(): void {
    this.#next?.cancel();
    this.#next = undefined;
    this.#nextFireTimeMs = undefined;
  }
}
