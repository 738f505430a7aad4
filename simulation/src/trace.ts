/**
 * The readable trace of one simulated run: every fault, operator command, connection state change
 * and item run, stamped with simulated time. Kept in memory (cheap tuples) and formatted only when
 * printed.
 *
 * @module
 */

/** One trace line. */
export interface TraceEntry {
  /** Simulated time, ms since the start of the run. */
  readonly atMs: number;
  /** Who: a process id (`p3`), `operator`, `chaos`, `check`. */
  readonly actor: string;
  readonly text: string;
}

/** An append-only trace of a run. */
export class Trace {
  readonly #entries: TraceEntry[] = [];
  readonly #originMs: number;
  readonly #now: () => number;

  /**
   * @param originMs - epoch ms printed as time 0.
   * @param now - the simulated time source.
   */
  constructor(originMs: number, now: () => number) {
    this.#originMs = originMs;
    this.#now = now;
  }

  /** Appends a line at the current simulated time. */
  add(actor: string, text: string): void {
    this.#entries.push({ atMs: this.#now() - this.#originMs, actor, text });
  }

  /** Every line so far. */
  get entries(): readonly TraceEntry[] {
    return this.#entries;
  }

  /**
   * Formats lines as `   12.345s p2   text`.
   *
   * @param filter - keeps only matching lines (all by default).
   */
  format(filter: (entry: TraceEntry) => boolean = () => true): string {
    return this.#entries
      .filter(filter)
      .map((entry) => `${(entry.atMs / 1000).toFixed(3).padStart(9)}s ${entry.actor.padEnd(8)} ${entry.text}`)
      .join('\n');
  }
}
