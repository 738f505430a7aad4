/**
 * Cron firing: arms the next fire on the shared timer service and hands each fire to the run
 * lanes. Rescheduled when the cron or time zone changes in the registry.
 *
 * A fire's timer goes off {@link AdmissionLead.leadMs} ahead of the scheduled time when the normal
 * lane could start the run then (idle, session open, no resharding pending): the run is prepared
 * and admitted ahead, and its user code waits for the scheduled time (see `admission-lead.ts`).
 * Otherwise the fire is handed over at the scheduled time itself, where a busy lane makes it a
 * misfire exactly as in ElasticJob.
 *
 * @module
 */
import type { CronExpression } from '../../cron/index.js';
import type { RunLanes } from '../execution/run-lanes.js';
import type { JobContext } from '../job-context.js';
import type { ScheduledTimer, TimerService } from '../timer-service.js';
import type { AdmissionLead } from './admission-lead.js';

/** The next cron fire of one job on this instance. */
export class FireScheduler {
  #next: ScheduledTimer | undefined;
  #nextFireTimeMs: number | undefined;
  /** The last fire handed to the lanes: its timer went off ahead of it, and it is not fired again. */
  #handedFireTimeMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly context: JobContext,
    private readonly timers: TimerService,
    private readonly lanes: RunLanes,
    private readonly cron: () => CronExpression | undefined,
    private readonly started: () => boolean,
    private readonly lead: AdmissionLead,
  ) {}

  /** Next scheduled fire time (epoch ms), if any. */
  get nextFireTimeMs(): number | undefined {
    return this.#nextFireTimeMs;
  }

  /**
   * Arms the next fire after now and after the last fire handed to the lanes (replacing any armed
   * one): a fire prepared ahead is not armed again when the cron is rescheduled before its time.
   */
  schedule(): void {
    this.cancel();
    const cron = this.cron();
    if (cron === undefined || !this.started()) return;
    const fromMs = Math.max(this.timers.clock.now(), this.#handedFireTimeMs);
    const next = cron.next(new Date(fromMs));
    if (next === undefined) {
      this.context.logger.info('cron has no future fire time; the job will not fire again');
      return;
    }
    const fireTimeMs = next.getTime();
    this.#nextFireTimeMs = fireTimeMs;
    this.#next = this.timers.scheduleAt(fireTimeMs - this.lead.leadMs, () => {
      if (!this.started()) return;
      if (this.timers.clock.now() < fireTimeMs && !this.lanes.mayPrepareAhead()) {
        this.#next = this.timers.scheduleAt(fireTimeMs, () => this.#hand(fireTimeMs));
        return;
      }
      this.#hand(fireTimeMs);
    });
  }

  /** Cancels the armed fire. */
  cancel(): void {
    this.#next?.cancel();
    this.#next = undefined;
    this.#nextFireTimeMs = undefined;
  }

  #hand(fireTimeMs: number): void {
    if (!this.started()) return;
    this.#handedFireTimeMs = fireTimeMs;
    this.schedule();
    this.lanes.fire(fireTimeMs);
  }
}
