/**
 * The ledger of item runs (what the job's `execute(ctx)` saw) and two invariants checked at every
 * run start. One run per fire: no two runs serve the same cron fire of an item (the same
 * `scheduledFireTimeMs`), wherever they run. Exclusion: no sharding item runs on two job instances at once, unless the older run's
 * registry session had already ended (as the server knows it) and its signal was aborted by the
 * time it ended (unless its process could not know: frozen, or not yet told `LOST` when the run
 * ended), and, when the kernel provides fencing tokens, the older run's token is lower. A graceful
 * leave counts as an ended session for the job: once the kernel has aborted a run and, its drain
 * bound (`shutdownTimeoutMs`) over, removed the job instance's `instances/{id}` node, a run that
 * ignores its abort may overlap the item's next owner; its fencing token must still be lower.
 *
 * @module
 */

/** One execution of one sharding item on one job instance. */
export interface RunRecord {
  readonly id: number;
  readonly jobName: string;
  readonly item: number;
  /** Simulated process (`p3`). */
  readonly processId: string;
  readonly instanceId: string;
  /** The registry session the instance's client had when the run started. */
  readonly sessionId: string | undefined;
  /** Global simulated time, epoch ms. */
  readonly startMs: number;
  endMs: number | undefined;
  endReason: 'finished' | 'aborted' | 'crashed' | undefined;
  readonly signal: AbortSignal;
  /** Global time at which the signal was aborted. */
  abortedAtMs: number | undefined;
  /** `ShardingContext.fencingToken` when the kernel provides one. */
  readonly fencingToken: bigint | undefined;
  /** `ShardingContext.scheduledFireTimeMs`: the cron fire a normal run serves (process clock). */
  readonly scheduledFireTimeMs: number | undefined;
  /** `NORMAL_TRIGGER`, `MISFIRE` or `FAILOVER`, from the kernel's execution event. */
  source: string | undefined;
  /** Who the registry's assignment (`sharding/{item}/instance`) named when the run started. */
  readonly assignedTo: string | undefined;
  /** Whether the instance had reported LOST before this run started. */
  readonly afterLost: boolean;
  /** Newer runs that overlapped this one while its session was already gone. */
  readonly overlappedBy: Array<{ readonly run: RunRecord; readonly frozen: boolean }>;
}

/** A broken invariant. */
export interface Violation {
  /** E.g. `concurrent-run:FAILOVER+MISFIRE`, `lost-item`, `leak-timer`. */
  kind: string;
  /** Global simulated time, epoch ms. */
  readonly atMs: number;
  readonly message: string;
  readonly jobName?: string;
  readonly item?: number;
  /** The runs involved (older first). */
  readonly runs?: readonly RunRecord[];
}

/** What the ledger needs to know about the world when a run starts. */
export interface LedgerWorld {
  now(): number;
  /** Whether the server still holds `sessionId`. */
  isSessionAlive(sessionId: string | undefined): boolean;
  /** Whether the process is frozen now. */
  isFrozen(processId: string): boolean;
  /**
   * Whether the process's registry client has reported `LOST` for `sessionId` by now: the kernel
   * was told that the session ended. A partitioned client learns it only when it reconnects.
   */
  knowsSessionEnded(processId: string, sessionId: string | undefined): boolean;
  /** Whether the job instance's `instances/{instanceId}` node exists on the server now. */
  isInstanceRegistered(jobName: string, instanceId: string): boolean;
  /** Whether the job checks exclusion (monitorExecution on: ElasticJob only tracks runs then). */
  checksExclusion(jobName: string): boolean;
}

/**
 * Reads a fencing token from a context, if the kernel provides one (`ShardingContext.fencingToken`;
 * 0 or absent means none, e.g. without monitorExecution).
 */
export function fencingTokenOf(context: object): bigint | undefined {
  const token = (context as { fencingToken?: unknown }).fencingToken;
  if (typeof token === 'bigint') return token > 0n ? token : undefined;
  if (typeof token === 'number' && Number.isFinite(token) && token > 0) return BigInt(Math.trunc(token));
  if (typeof token === 'string' && /^-?\d+$/.test(token)) return BigInt(token);
  return undefined;
}

/** Records runs and checks exclusion as they start and end. */
export class RunLedger {
  readonly #world: LedgerWorld;
  readonly #runs: RunRecord[] = [];
  readonly #active = new Map<string, Set<RunRecord>>();
  /** `job#item#scheduledFireTimeMs` → the run that served that fire. */
  readonly #fires = new Map<string, RunRecord>();
  readonly violations: Violation[] = [];

  readonly #onViolation: (violation: Violation) => void;

  /**
   * @param world - see {@link LedgerWorld}.
   * @param onViolation - told of each violation as it is found (the trace).
   */
  constructor(world: LedgerWorld, onViolation: (violation: Violation) => void = () => {}) {
    this.#world = world;
    this.#onViolation = onViolation;
  }

  /** Every run recorded, in start order. */
  get runs(): readonly RunRecord[] {
    return this.#runs;
  }

  /** Runs that have not ended. */
  activeRuns(): RunRecord[] {
    return [...this.#active.values()].flatMap((set) => [...set]);
  }

  /** Records a run start and checks it against the item's other active runs. */
  start(
    init: Omit<RunRecord, 'id' | 'endMs' | 'endReason' | 'abortedAtMs' | 'source' | 'overlappedBy'>,
  ): RunRecord {
    const run: RunRecord = {
      ...init,
      id: this.#runs.length + 1,
      endMs: undefined,
      endReason: undefined,
      abortedAtMs: undefined,
      source: undefined,
      overlappedBy: [],
    };
    this.#runs.push(run);
    const key = `${run.jobName}#${run.item}`;
    let active = this.#active.get(key);
    if (active === undefined) {
      active = new Set();
      this.#active.set(key, active);
    }
    if (this.#world.checksExclusion(run.jobName)) {
      for (const older of active) this.#checkOverlap(older, run);
      this.#checkOneRunPerFire(run);
    }
    active.add(run);
    if (run.signal.aborted) run.abortedAtMs = run.startMs;
    else
      run.signal.addEventListener('abort', () => {
        run.abortedAtMs ??= this.#world.now();
      });
    return run;
  }

  /** Records the end of a run (finished, aborted, or its process crashed). */
  end(run: RunRecord, reason: NonNullable<RunRecord['endReason']>): void {
    if (run.endMs !== undefined) return;
    run.endMs = this.#world.now();
    run.endReason = reason;
    this.#active.get(`${run.jobName}#${run.item}`)?.delete(run);
    if (reason === 'crashed') return;
    // The kernel can abort a run only once it knows the run's session ended: a run that ends
    // before its process was told (frozen, or partitioned and never told LOST) is left to fencing.
    const told = this.#world.knowsSessionEnded(run.processId, run.sessionId);
    for (const { run: newer, frozen } of run.overlappedBy) {
      if (!frozen && told && run.abortedAtMs === undefined) {
        this.#violate('stale-run-not-aborted', [run, newer], {
          message: `run #${run.id} on ${run.processId} outlived its session while run #${newer.id} on ${newer.processId} ran the item, and its signal was never aborted`,
        });
      }
    }
  }

  /** Adds a violation found elsewhere (coverage, convergence, leaks). */
  report(violation: Violation): void {
    this.violations.push(violation);
    this.#onViolation(violation);
  }

  /** Sets a run's source from the kernel's execution event. */
  setSource(processId: string, jobName: string, item: number, source: string): void {
    for (let i = this.#runs.length - 1; i >= 0; i--) {
      const run = this.#runs[i] as RunRecord;
      if (run.processId === processId && run.jobName === jobName && run.item === item) {
        if (run.source === undefined) run.source = source;
        return;
      }
    }
  }

  /**
   * Names every concurrent-run violation by its cause, once sources are known: a run of any kind
   * overlapping a failover run; a run on a stale assignment (after LOST or not); else the pair
   * of sources.
   */
  classify(): void {
    for (const violation of this.violations) {
      if (violation.kind !== 'concurrent-run' || violation.runs === undefined) continue;
      const [older, newer] = violation.runs as [RunRecord, RunRecord];
      const sources = [older.source ?? '?', newer.source ?? '?'].sort();
      const failover = sources.includes('FAILOVER') && sources.some((s) => s !== 'FAILOVER');
      const stale = (run: RunRecord): boolean =>
        run.source !== 'FAILOVER' && run.assignedTo !== undefined && run.assignedTo !== run.instanceId;
      if (failover) violation.kind = `concurrent-run:failover-overlap(${sources.join('+')})`;
      else if (stale(newer) || stale(older)) {
        const run = stale(newer) ? newer : older;
        violation.kind = run.afterLost
          ? 'concurrent-run:stale-assignment-after-lost'
          : 'concurrent-run:stale-assignment';
      } else violation.kind = `concurrent-run:${sources.join('+')}`;
    }
  }

  #checkOneRunPerFire(run: RunRecord): void {
    if (run.scheduledFireTimeMs === undefined) return;
    const key = `${run.jobName}#${run.item}#${run.scheduledFireTimeMs}`;
    const earlier = this.#fires.get(key);
    if (earlier === undefined) {
      this.#fires.set(key, run);
      return;
    }
    this.#violate('fire-run-twice', [earlier, run], {
      message: `run #${run.id} on ${run.processId} serves the fire of ${new Date(run.scheduledFireTimeMs).toISOString()} that run #${earlier.id} on ${earlier.processId} served`,
    });
  }

  #checkOverlap(older: RunRecord, newer: RunRecord): void {
    if (older.processId === newer.processId && older.instanceId === newer.instanceId) {
      this.#violate('concurrent-run', [older, newer], {
        message: `item started twice on ${newer.processId}: runs #${older.id} and #${newer.id}`,
      });
      return;
    }
    // A job instance that left (shut down) after aborting the run: as if its session had ended.
    const leftAfterAbort =
      older.abortedAtMs !== undefined && !this.#world.isInstanceRegistered(older.jobName, older.instanceId);
    if (this.#world.isSessionAlive(older.sessionId) && !leftAfterAbort) {
      this.#violate('concurrent-run', [older, newer], {
        message: `run #${newer.id} on ${newer.processId} started while run #${older.id} on ${older.processId} (session alive) was running`,
      });
      return;
    }
    older.overlappedBy.push({ run: newer, frozen: this.#world.isFrozen(older.processId) });
    if (older.fencingToken !== undefined && newer.fencingToken !== undefined) {
      if (!(older.fencingToken < newer.fencingToken)) {
        this.#violate('fencing-token-not-increasing', [older, newer], {
          message: `run #${newer.id} has fencing token ${newer.fencingToken}, not above ${older.fencingToken} of the overlapped run #${older.id}`,
        });
      }
    }
  }

  #violate(kind: string, runs: [RunRecord, RunRecord], detail: { message: string }): void {
    const [, newer] = runs;
    this.report({
      kind,
      atMs: this.#world.now(),
      message: detail.message,
      jobName: newer.jobName,
      item: newer.item,
      runs,
    });
  }
}
