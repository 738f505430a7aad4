/**
 * Invariants over the execution logs of a multi-process run, as pure functions over
 * parsed logs so that they are unit-tested on synthetic logs. Each check returns a list of
 * human-readable violations; an empty list means the invariant holds.
 *
 * Definitions (all times are wall-clock epoch ms, comparable because every process runs on one
 * machine):
 *
 * - A *run* of an item is a `start` line paired with the `end` or `abort` line of the same
 *   instance, item, fire and taskId. Its interval is `[start, stop)`, where `stop` is the time of
 *   its `end`/`abort` line, else the time its process was killed or exited, else "now" (still
 *   running).
 * - **(a) Exclusive execution**: no two runs of the same item overlap, on different instances or
 *   on one. The single tolerance is the *frozen run*: a run that was in progress when its process
 *   was `SIGSTOP`ped for longer than the session timeout is counted only up to `pause start +
 *   sessionTimeout / 2`. The registry may declare the frozen instance dead once it heard nothing
 *   for a whole session timeout, and both clients heartbeat at least every half timeout, so nobody
 *   may take its items earlier; what the frozen process does after it resumes cannot be prevented
 *   by the scheduler (ElasticJob #529; only fencing of side effects can). In exchange, after such
 *   a pause the resumed instance must not START any item before its registry client reported the
 *   new session (`RECONNECTED` or `CONNECTED` in its log).
 *   A second exception covers a live instance cut off from the registry (network partition,
 *   blackhole, pulled cable) for longer than its session: its overlap with the item's new owner is
 *   *fenced*, not a violation, when its run ended in `abort` (its `AbortSignal` fired) and the
 *   instance logged `LOST` between the run's start and that abort. {@link findFencedOverlaps}
 *   reports these overlaps (with their length) so that runs can show how long fencing took.
 * - **(b) Completeness** (failover on): for every fire `T` of a window and every item, some run of
 *   the item *completed* (`end`) and started within `[T, T + coverageBoundMs]`. One run covers
 *   every fire that arrived while the previous run was in progress (misfire coalesces them), hence
 *   "started at or after `T`" rather than "belongs to fire `T`".
 * - **(c) Convergence**: given the assignment read from the registry (`sharding/{i}/instance`) and
 *   a window that starts after it became stable, every run that started in the window ran on the
 *   item's assigned instance, and every item completed at least one run there.
 *
 * @module
 */
import type { ExecutionLogEntry, InstanceEventType } from './execution-log.js';

/** How a run ended, as far as the logs tell. */
export type RunOutcome = 'end' | 'abort' | 'open';

/** One run of one item on one instance. */
export interface ItemRun {
  /** The instance that ran it. */
  readonly instanceId: string;
  /** The sharding item. */
  readonly item: number;
  /** The fire field of its lines (see `execution-log.ts`). */
  readonly fireTimeMs: number;
  /** The kernel's taskId of the run. */
  readonly taskId: string;
  /** Time of the `start` line, epoch ms. */
  readonly startMs: number;
  /** Time of the `end`/`abort` line; `undefined` when the run never logged one. */
  readonly stopMs: number | undefined;
  /** `end`, `abort`, or `open` (no stop line). */
  readonly outcome: RunOutcome;
}

/** A `SIGSTOP`..`SIGCONT` window of one process. */
export interface PauseWindow {
  /** When the process was stopped (recorded after the signal was sent). */
  readonly fromMs: number;
  /** When it was continued (recorded before the signal was sent); `undefined` while still stopped. */
  readonly toMs: number | undefined;
}

/** A window during which the harness cut an instance's network to the registry. */
export interface NetworkFaultWindow {
  /** What the proxies did: `partition`, `blackhole` or `pause` (see the fault proxy). */
  readonly mode: string;
  /** When the fault began, epoch ms. */
  readonly fromMs: number;
  /** When it was healed; `undefined` while it lasts. */
  readonly toMs: number | undefined;
}

/** What the harness knows about one instance's process besides its log. */
export interface InstanceTimeline {
  /** The instance. */
  readonly instanceId: string;
  /** When the process stopped existing (`SIGKILL` sent, or exit observed), if it did. */
  readonly goneAtMs: number | undefined;
  /** Its `SIGSTOP` windows, in order. */
  readonly pauses: readonly PauseWindow[];
  /** Its network fault windows, in order (none when omitted). */
  readonly networkFaults?: readonly NetworkFaultWindow[];
  /** Its instance log lines, in order. */
  readonly events: readonly { readonly event: InstanceEventType; readonly wallMs: number }[];
}

/** Result of {@link buildRuns}. */
export interface BuiltRuns {
  /** Runs sorted by start time. */
  readonly runs: ItemRun[];
  /** Lines that break the start → end/abort protocol (each a bug in the worker or a lost line). */
  readonly violations: string[];
}

/** Common options of the interval checks. */
export interface IntervalCheckOptions {
  /** The registry session timeout of the cluster, in ms. */
  readonly sessionTimeoutMs: number;
  /** "Now" for runs that are still open, epoch ms. */
  readonly nowMs: number;
}

/** Options of {@link checkCompleteness}. */
export interface CompletenessOptions {
  /** The items of the job (usually `0..shardingTotalCount-1`). */
  readonly items: readonly number[];
  /** Scheduled fire times of the window, epoch ms. */
  readonly fireTimesMs: readonly number[];
  /** Latest start of a covering run after the fire, in ms. */
  readonly coverageBoundMs: number;
}

/** Options of {@link checkConvergence}. */
export interface ConvergenceOptions {
  /** Item → instance id, read from `sharding/{item}/instance`. */
  readonly assignment: ReadonlyMap<number, string>;
  /** Window start (inclusive), epoch ms. */
  readonly fromMs: number;
  /** Window end (inclusive), epoch ms. */
  readonly toMs: number;
}

/** One in-flight item of a killed instance and who took it over. */
export interface FailoverMeasurement {
  /** The sharding item. */
  readonly item: number;
  /** Start of the run that was in flight when the instance was killed. */
  readonly inFlightSinceMs: number;
  /** The instance whose run of the item started first after the kill. */
  readonly takenOverBy: string | undefined;
  /** Start of that run. */
  readonly takeoverStartMs: number | undefined;
  /** `takeoverStartMs - killedAtMs`, in ms. */
  readonly latencyMs: number | undefined;
}

/**
 * `HH:MM:SS.mmm` (UTC) of an epoch-ms time, for messages.
 *
 * @param ms - epoch ms.
 */
export function formatTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : String(ms);
}

/**
 * The fire times `k × periodMs` within `[fromMs, toMs]`, e.g. every whole second for the cron
 * `* * * * * ?`.
 *
 * @param fromMs - window start, epoch ms (inclusive).
 * @param toMs - window end, epoch ms (inclusive).
 * @param periodMs - the cron period in ms.
 * @returns ascending fire times.
 */
export function periodicFireTimes(fromMs: number, toMs: number, periodMs: number): number[] {
  const times: number[] = [];
  for (let t = Math.ceil(fromMs / periodMs) * periodMs; t <= toMs; t += periodMs) times.push(t);
  return times;
}

/**
 * Pairs item lines into runs: a `start` opens a run keyed by instance, item, fire and taskId; the
 * `end`/`abort` with the same key closes it.
 *
 * @param entries - parsed lines of every log (any order across instances; per instance in file order).
 * @returns the runs (sorted by start) and protocol violations (a stop without a start, a second
 *   start of an open run, a stop before its start).
 */
export function buildRuns(entries: readonly ExecutionLogEntry[]): BuiltRuns {
  const open = new Map<
    string,
    { instanceId: string; item: number; fireTimeMs: number; taskId: string; startMs: number }
  >();
  const runs: ItemRun[] = [];
  const violations: string[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'item') continue;
    const key = `${entry.instanceId} ${entry.item} ${entry.fireTimeMs} ${entry.taskId}`;
    const where = `item ${entry.item} on ${entry.instanceId} (fire ${formatTime(entry.fireTimeMs)})`;
    if (entry.event === 'start') {
      if (open.has(key))
        violations.push(`${where}: second 'start' at ${formatTime(entry.wallMs)} while a run is open`);
      open.set(key, {
        instanceId: entry.instanceId,
        item: entry.item,
        fireTimeMs: entry.fireTimeMs,
        taskId: entry.taskId,
        startMs: entry.wallMs,
      });
      continue;
    }
    const started = open.get(key);
    if (started === undefined) {
      violations.push(`${where}: '${entry.event}' at ${formatTime(entry.wallMs)} without a 'start'`);
      continue;
    }
    open.delete(key);
    if (entry.wallMs < started.startMs) {
      violations.push(`${where}: '${entry.event}' at ${formatTime(entry.wallMs)} before its start`);
    }
    runs.push({ ...started, stopMs: entry.wallMs, outcome: entry.event });
  }
  for (const started of open.values()) runs.push({ ...started, stopMs: undefined, outcome: 'open' });
  runs.sort((a, b) => a.startMs - b.startMs || a.instanceId.localeCompare(b.instanceId) || a.item - b.item);
  return { runs, violations };
}

function isLongPause(pause: PauseWindow, options: IntervalCheckOptions): boolean {
  return (pause.toMs ?? options.nowMs) - pause.fromMs > options.sessionTimeoutMs;
}

/**
 * The end of a run's interval for invariant (a): its stop line, else the death of its process,
 * else now; clipped to `pause start + sessionTimeout / 2` for a frozen run (see the module doc).
 *
 * @param run - the run.
 * @param timeline - its instance's timeline, if known.
 * @param options - session timeout and now.
 * @returns epoch ms.
 */
export function effectiveStopMs(
  run: ItemRun,
  timeline: InstanceTimeline | undefined,
  options: IntervalCheckOptions,
): number {
  let stop = run.stopMs ?? timeline?.goneAtMs ?? options.nowMs;
  for (const pause of timeline?.pauses ?? []) {
    if (run.startMs < pause.fromMs && pause.fromMs < stop && isLongPause(pause, options)) {
      stop = Math.min(stop, pause.fromMs + options.sessionTimeoutMs / 2);
    }
  }
  return stop;
}

/**
 * Invariant (a): no item runs twice at once, and a resumed instance starts nothing before its
 * new session (see the module doc for the exact rule and its single tolerance).
 *
 * @param runs - from {@link buildRuns}.
 * @param timelines - every instance's timeline (kills, exits, pauses, instance events).
 * @param options - session timeout and now.
 * @returns violations, empty when the invariant holds.
 */
export function checkExclusiveExecution(
  runs: readonly ItemRun[],
  timelines: readonly InstanceTimeline[],
  options: IntervalCheckOptions,
): string[] {
  const violations: string[] = [];
  for (const overlap of findOverlaps(runs, timelines, options)) {
    if (overlap.fencedInstanceId !== undefined) continue;
    const { first, second } = overlap;
    const place =
      first.run.instanceId === second.run.instanceId
        ? `twice on ${first.run.instanceId}`
        : `on ${first.run.instanceId} and ${second.run.instanceId}`;
    violations.push(
      `item ${overlap.item} ran ${place} at once for ${overlap.overlapMs} ms: ` +
        `${describeRun(first.run, first.stopMs)} and ${describeRun(second.run, second.stopMs)}`,
    );
  }
  for (const timeline of timelines) {
    for (const pause of timeline.pauses) {
      if (pause.toMs === undefined || !isLongPause(pause, options)) continue;
      const resumedAt = pause.toMs;
      const session = timeline.events.find(
        (e) => e.wallMs >= resumedAt && (e.event === 'RECONNECTED' || e.event === 'CONNECTED'),
      );
      const boundary = session?.wallMs ?? Number.POSITIVE_INFINITY;
      for (const run of runs) {
        if (run.instanceId !== timeline.instanceId || run.startMs < resumedAt || run.startMs >= boundary)
          continue;
        violations.push(
          `${timeline.instanceId} started item ${run.item} at ${formatTime(run.startMs)}, after resuming at ` +
            `${formatTime(resumedAt)} from a ${pause.toMs - pause.fromMs} ms pause (session ` +
            `${options.sessionTimeoutMs} ms) but before its new session ` +
            `(${session === undefined ? 'never reported' : `reported at ${formatTime(session.wallMs)}`})`,
        );
      }
    }
  }
  return violations;
}

/** Two runs of one item that overlap (see {@link findOverlaps}). */
export interface RunOverlap {
  /** The item. */
  readonly item: number;
  /** The run that started first, with its effective stop. */
  readonly first: { readonly run: ItemRun; readonly stopMs: number };
  /** The run that started while the first one was in progress. */
  readonly second: { readonly run: ItemRun; readonly stopMs: number };
  /** How long they overlapped, in ms. */
  readonly overlapMs: number;
  /** The instance whose run was fenced (aborted after its session was LOST), if one was. */
  readonly fencedInstanceId: string | undefined;
}

/** Whether a run was fenced: it ended in `abort` and its instance logged `LOST` while it ran. */
function isFenced(run: ItemRun, timeline: InstanceTimeline | undefined): boolean {
  if (run.outcome !== 'abort' || run.stopMs === undefined) return false;
  const stopMs = run.stopMs;
  return (timeline?.events ?? []).some(
    (e) => e.event === 'LOST' && e.wallMs >= run.startMs && e.wallMs <= stopMs,
  );
}

/**
 * Every pair of overlapping runs of one item, with the frozen-run clipping of
 * {@link effectiveStopMs} applied, each marked with the instance that was fenced, if any.
 *
 * @param runs - from {@link buildRuns}.
 * @param timelines - every instance's timeline.
 * @param options - session timeout and now.
 * @returns overlaps ordered by item, then start.
 */
export function findOverlaps(
  runs: readonly ItemRun[],
  timelines: readonly InstanceTimeline[],
  options: IntervalCheckOptions,
): RunOverlap[] {
  const byInstance = new Map(timelines.map((timeline) => [timeline.instanceId, timeline]));
  const byItem = new Map<number, { run: ItemRun; stopMs: number }[]>();
  for (const run of runs) {
    const intervals = byItem.get(run.item) ?? [];
    intervals.push({ run, stopMs: effectiveStopMs(run, byInstance.get(run.instanceId), options) });
    byItem.set(run.item, intervals);
  }
  const overlaps: RunOverlap[] = [];
  for (const [item, intervals] of [...byItem].sort((a, b) => a[0] - b[0])) {
    intervals.sort((a, b) => a.run.startMs - b.run.startMs);
    for (let i = 0; i < intervals.length; i++) {
      const first = intervals[i]!;
      for (let j = i + 1; j < intervals.length; j++) {
        const second = intervals[j]!;
        if (second.run.startMs >= first.stopMs) continue;
        const fenced = [first.run, second.run].find(
          (run) =>
            run.instanceId !== (run === first.run ? second.run : first.run).instanceId &&
            isFenced(run, byInstance.get(run.instanceId)),
        );
        overlaps.push({
          item,
          first,
          second,
          overlapMs: Math.min(first.stopMs, second.stopMs) - second.run.startMs,
          fencedInstanceId: fenced?.instanceId,
        });
      }
    }
  }
  return overlaps;
}

function describeRun(run: ItemRun, stopMs: number): string {
  const end =
    run.outcome === 'open' ? `${formatTime(stopMs)} (no end logged)` : `${formatTime(stopMs)} ${run.outcome}`;
  return `${run.instanceId} [${formatTime(run.startMs)} .. ${end}]`;
}

/**
 * Invariant (b): every item of every fire of the window completed somewhere within the bound.
 *
 * @param runs - from {@link buildRuns}.
 * @param options - items, fire times and bound.
 * @returns violations (one per fire with uncovered items), empty when the invariant holds.
 */
export function checkCompleteness(runs: readonly ItemRun[], options: CompletenessOptions): string[] {
  const completed = runs.filter((run) => run.outcome === 'end');
  const violations: string[] = [];
  for (const fire of options.fireTimesMs) {
    const missing = options.items.filter(
      (item) =>
        !completed.some(
          (run) => run.item === item && run.startMs >= fire && run.startMs <= fire + options.coverageBoundMs,
        ),
    );
    if (missing.length > 0) {
      violations.push(
        `fire ${formatTime(fire)}: item(s) ${missing.join(', ')} did not complete a run started within ` +
          `${options.coverageBoundMs} ms after the fire`,
      );
    }
  }
  return violations;
}

/**
 * Invariant (c): in the window, items ran only on their assigned instances, and each item
 * completed at least once there.
 *
 * @param runs - from {@link buildRuns}.
 * @param options - the assignment and the window.
 * @returns violations, empty when the invariant holds.
 */
export function checkConvergence(runs: readonly ItemRun[], options: ConvergenceOptions): string[] {
  const inWindow = runs.filter((run) => run.startMs >= options.fromMs && run.startMs <= options.toMs);
  const violations: string[] = [];
  for (const run of inWindow) {
    const owner = options.assignment.get(run.item);
    if (run.instanceId !== owner) {
      violations.push(
        `item ${run.item} started on ${run.instanceId} at ${formatTime(run.startMs)} but is assigned to ` +
          `${owner ?? 'nobody'}`,
      );
    }
  }
  for (const [item, owner] of [...options.assignment].sort((a, b) => a[0] - b[0])) {
    const done = inWindow.some(
      (run) => run.item === item && run.instanceId === owner && run.outcome === 'end',
    );
    if (!done) {
      violations.push(
        `item ${item} did not complete on its owner ${owner} between ${formatTime(options.fromMs)} and ` +
          `${formatTime(options.toMs)}`,
      );
    }
  }
  return violations;
}

/**
 * Failover after a kill: the items the killed instance had in flight, and the first run of each
 * that started on another instance after the kill.
 *
 * @param runs - from {@link buildRuns}.
 * @param instanceId - the killed instance.
 * @param killedAtMs - when it was killed.
 * @returns one measurement per in-flight item, ascending by item.
 */
export function measureFailover(
  runs: readonly ItemRun[],
  instanceId: string,
  killedAtMs: number,
): FailoverMeasurement[] {
  const inFlight = runs.filter(
    (run) =>
      run.instanceId === instanceId &&
      run.startMs <= killedAtMs &&
      (run.stopMs === undefined || run.stopMs > killedAtMs),
  );
  return inFlight
    .sort((a, b) => a.item - b.item)
    .map((run) => {
      const takeover = runs.find(
        (other) => other.item === run.item && other.instanceId !== instanceId && other.startMs >= killedAtMs,
      );
      return {
        item: run.item,
        inFlightSinceMs: run.startMs,
        takenOverBy: takeover?.instanceId,
        takeoverStartMs: takeover?.startMs,
        latencyMs: takeover === undefined ? undefined : takeover.startMs - killedAtMs,
      };
    });
}
