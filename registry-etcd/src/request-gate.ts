/**
 * {@link RequestGate}: bounds the unary requests one client has in flight.
 *
 * etcd refuses every request with "etcdserver: too many requests" once its raft log has more than
 * 5,000 committed entries it has not applied yet. A burst of one process gets there on its own:
 * when an instance of 10,000 jobs died, each surviving job elected, resharded and claimed
 * failover at once; the server refused thousands of those writes, left the survivor's lease
 * keep-alives unanswered until its session expired, and no item was taken over. Sent through the gate, at most {@link MAX_REQUESTS_IN_FLIGHT} of a
 * client's requests are in flight; the rest wait, in order, and each request's deadline starts
 * when it is sent. Lease keep-alives and watches are streams and do not pass the gate.
 *
 * @module
 */

/**
 * Unary requests one client has in flight at most. Far below etcd's 5,000-entry apply backlog,
 * and far above what one fire needs (its admission and completion transactions).
 */
export const MAX_REQUESTS_IN_FLIGHT = 128;

/**
 * A counting semaphore for requests: FIFO, a released slot goes to the longest waiting request.
 * {@link close} fails every request not answered yet, so that nothing waits on a closed client.
 */
export class RequestGate {
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];
  /** The rejections of the runs not settled yet (waiting or in flight). */
  readonly #open = new Set<(error: unknown) => void>();
  #closedWith: unknown;
  #closed = false;

  /**
   * @param maxInFlight - requests in flight at most (an integer ≥ 1).
   * @throws {RangeError} for another value.
   */
  constructor(readonly maxInFlight: number = MAX_REQUESTS_IN_FLIGHT) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`RequestGate 'maxInFlight' must be an integer >= 1, got ${maxInFlight}`);
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `send` once a slot is free (at once when one is), and frees the slot when its promise
   * settles.
   *
   * @param send - starts the request (and its deadline) when called.
   * @returns what `send` returns; its rejection is passed on.
   * @throws the reason given to {@link close}, once closed (at once for a run asked afterwards).
   */
  run<T>(send: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedWith);
    return new Promise<T>((resolve, reject) => {
      this.#open.add(reject);
      this.#gated(send).then(
        (value) => {
          this.#open.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.#open.delete(reject);
          reject(error);
        },
      );
    });
  }

  /**
   * Fails every run not settled yet with `reason`, and every later one. Requests already sent go
   * on until their own deadline (the vendor client cannot recall them); their answers are dropped.
   * Requests still waiting for a slot are never sent.
   *
   * @param reason - what the runs reject with.
   */
  close(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedWith = reason;
    this.#waiting.length = 0;
    for (const reject of [...this.#open]) reject(reason);
    this.#open.clear();
  }

  async #gated<T>(send: () => Promise<T>): Promise<T> {
    if (this.#inFlight < this.maxInFlight) this.#inFlight += 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await send();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes to the next request, or is freed.
      if (next !== undefined) next();
      else this.#inFlight -= 1;
    }
  }
}
