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
 * The lead follows what preparation has cost recently: a margin over the slowest of the last
 * {@link LEAD_SAMPLE_COUNT} cron preparations of the job, capped by {@link MAX_ADMISSION_LEAD_MS}.
 * A job that has not fired yet, and a job whose preparation makes no registry call, get the
 * margin alone.
 *
 * @module
 */

/** Cron preparations remembered per job. */
export const LEAD_SAMPLE_COUNT = 8;
/** The most a run is prepared ahead of its fire, in ms. */
export const MAX_ADMISSION_LEAD_MS = 500;
/** Added to the slowest recent preparation, in ms: the timer's own lateness. */
export const ADMISSION_LEAD_MARGIN_MS = 2;
/** Factor over the slowest recent preparation. */
const LEAD_FACTOR = 1.5;

/** The preparation lead of one job's cron fires on this instance. */
export class AdmissionLead {
  readonly #samplesMs: number[] = [];
  #next = 0;
  #leadMs = ADMISSION_LEAD_MARGIN_MS;

  /** How long before a fire its run starts preparing, in ms (margin … {@link MAX_ADMISSION_LEAD_MS}). */
  get leadMs(): number {
    return this.#leadMs;
  }

  /**
   * Records how long a cron run's preparation took, from the fire's timer to its admission.
   *
   * @param durationMs - elapsed ms (negative values count as 0).
   */
  record(durationMs: number): void {
    const sample = Math.max(0, durationMs);
    if (this.#samplesMs.length < LEAD_SAMPLE_COUNT) this.#samplesMs.push(sample);
    else this.#samplesMs[this.#next] = sample;
    this.#next = (this.#next + 1) % LEAD_SAMPLE_COUNT;
    let slowest = 0;
    for (const value of this.#samplesMs) if (value > slowest) slowest = value;
    this.#leadMs = Math.min(
      MAX_ADMISSION_LEAD_MS,
      Math.ceil(slowest * LEAD_FACTOR) + ADMISSION_LEAD_MARGIN_MS,
    );
  }
}
