/**
 * A run's abort switch whose `AbortSignal` is made only when something asks for it. Node.js builds
 * a signal (an `EventTarget`) for several microseconds and a few hundred bytes, and every run of
 * every job needs a switch while most runs never read their signal: 1,000 jobs firing every second
 * paid for 1,000 signals a second that nobody looked at.
 *
 * @module
 */

/** The abort state of one run: aborted once, with a reason; a real signal on demand. */
export class RunAbort {
  #aborted = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  #listeners: Array<() => void> | undefined;

  /** Whether {@link abort} was called. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The reason {@link abort} was given (`undefined` while not aborted). */
  get reason(): unknown {
    return this.#reason;
  }

  /**
   * The run's signal, made on first use: already aborted, with the same reason, if
   * {@link abort} came first; aborted together with the run afterwards.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * Aborts the run (its signal too, if made). Later calls do nothing, like `AbortController`.
   *
   * @param reason - why; the signal's `reason`.
   */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    for (const listener of this.#listeners?.splice(0) ?? []) listener();
  }

  /**
   * Calls `listener` once when the run is aborted (at once if it is), without making a signal.
   *
   * @param listener - called after the signal (if made) is aborted.
   * @returns a function that removes the listener (idempotent).
   */
  onAbort(listener: () => void): () => void {
    if (this.#aborted) {
      listener();
      return () => {};
    }
    this.#listeners ??= [];
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners?.indexOf(listener) ?? -1;
      if (index >= 0) this.#listeners?.splice(index, 1);
    };
  }
}
