/**
 * How far ahead of a cron fire its run is prepared, so that user code starts at the scheduled
 * time rather than one registry round trip after it.
 *
 * A monitored run's items start only once their `running` marks are committed (the admission
 * transaction, fsynced by the registry's servers), after the `before` listeners and the optional
 * `maxTimeDiffSeconds` check. ElasticJob does all of it after the fire, so every run starts that
 * long late. Here the fire's timer goes off {@link AdmissionLead.leadMs} ahead of the scheduled
 * time, the run is prepared and admitted, and its items wait for the scheduled time itself before
 * user code is called. Quartz acquires triggers ahead of their fire time for the same reason.
 *
 * One lead per timer service, so per process by default: what a preparation costs depends on the
 * process (CPU taken by the other jobs firing in the same second, the registry client's queue)
 * more than on the job, and the jobs of a burst must all be prepared early enough, including those
 * whose own last preparation happened to be quick. The lead is {@link LEAD_FACTOR} × the slowest
 * cron preparation (timer to admission) recorded in the current and the previous window of
 * {@link LEAD_WINDOW_MS}, plus {@link ADMISSION_LEAD_MARGIN_MS}, at most
 * {@link MAX_ADMISSION_LEAD_MS}: a slow preparation counts for 30 to 60 s. Before any preparation,
 * and when preparation makes no registry call, the lead is about the margin.
 *
 * @module
 */
import type { Clock } from '../../time/clock.js';
import type { TimerService } from '../timer-service.js';

/** The most a run is prepared ahead of its fire, in ms. */
export const MAX_ADMISSION_LEAD_MS = 500;
/** Added to the slowest recent preparation, in ms: the timer's own lateness. */
export const ADMISSION_LEAD_MARGIN_MS = 2;
/** Length of one window of preparations, in ms. */
export const LEAD_WINDOW_MS = 30_000;
/** Factor over the slowest recent preparation. */
export const LEAD_FACTOR = 1.5;

const LEADS = new WeakMap<TimerService, AdmissionLead>();

/** The preparation lead of the cron fires of every job on one timer service. */
export class AdmissionLead {
  #window = Number.NEGATIVE_INFINITY;
  #slowestMs = 0;
  #previousSlowestMs = 0;

  /** @param clock - the timer service's clock (windows are counted on it). */
  constructor(private readonly clock: Clock) {}

  /**
   * The lead shared by the jobs of `timers` (created on first use).
   *
   * @param timers - the jobs' timer service.
   */
  static of(timers: TimerService): AdmissionLead {
    let lead = LEADS.get(timers);
    if (lead === undefined) {
      lead = new AdmissionLead(timers.clock);
      LEADS.set(timers, lead);
    }
    return lead;
  }

  /** How long before a fire its run starts preparing, in ms (margin … {@link MAX_ADMISSION_LEAD_MS}). */
  get leadMs(): number {
    this.#roll();
    const slowest = Math.max(this.#slowestMs, this.#previousSlowestMs);
    return Math.min(MAX_ADMISSION_LEAD_MS, Math.ceil(slowest * LEAD_FACTOR) + ADMISSION_LEAD_MARGIN_MS);
  }

  /**
   * Records how long a cron run's preparation took, from the fire's timer to its admission.
   *
   * @param durationMs - elapsed ms (negative values count as 0).
   */
  record(durationMs: number): void {
    this.#roll();
    if (durationMs > this.#slowestMs) this.#slowestMs = durationMs;
  }

  /** Moves to the window of the clock's current time. */
  #roll(): void {
    const window = Math.floor(this.clock.now() / LEAD_WINDOW_MS);
    if (window === this.#window) return;
    this.#previousSlowestMs = window === this.#window + 1 ? this.#slowestMs : 0;
    this.#slowestMs = 0;
    this.#window = window;
  }
}
