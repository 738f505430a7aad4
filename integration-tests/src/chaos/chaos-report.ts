/**
 * The analysis of a chaos run, as pure functions over the parsed logs and the list of injected
 * faults (unit-tested on synthetic data): invariant violations, fenced overlaps, missing item runs
 * in steady windows, duplicate runs, and the convergence time after each fault; plus the table
 * the `chaos` command prints.
 *
 * @module
 */
import {
  checkExclusiveExecution,
  findOverlaps,
  formatTime,
  type InstanceTimeline,
  type ItemRun,
  periodicFireTimes,
} from '../harness/checker.js';

/** The kinds of fault a chaos run injects. */
export type ChaosFaultKind =
  | 'kill9'
  | 'sigstop'
  | 'partition-short'
  | 'partition-long'
  | 'blackhole'
  | 'pulled-cable'
  | 'registry-restart'
  | 'leader-kill'
  | 'scale-out'
  | 'scale-in';

/** One injected fault. */
export interface ChaosFault {
  /** What was done. */
  readonly kind: ChaosFaultKind;
  /** The worker or registry member it hit, for the report. */
  readonly target: string;
  /** When it began, epoch ms. */
  readonly fromMs: number;
  /** When it ended (heal, resume, restart done, process back), epoch ms. */
  readonly toMs: number;
  /** Set when the harness failed to inject or heal it (first line of the error). */
  readonly error?: string;
}

/** Timing of the job under test, for the analysis. */
export interface ChaosTiming {
  /** Registry session timeout, in ms. */
  readonly sessionTimeoutMs: number;
  /** Cron period, in ms (the cron is `0/{period} * * * * ?`). */
  readonly firePeriodMs: number;
  /** How long each item runs, in ms. */
  readonly itemDurationMs: number;
  /** Number of sharding items. */
  readonly shardingTotalCount: number;
}

/** Convergence after one fault. */
export interface FaultConvergence {
  /** The fault. */
  readonly fault: ChaosFault;
  /**
   * From the fault's end to the first fire from which every item completed at every fire until
   * the next fault began (or the run ended), in ms; `undefined` when that never happened.
   */
  readonly convergenceMs: number | undefined;
  /**
   * Recovery: from the fault's start to the first fire (at or after that start) from which every
   * item completed at every fire until the next fault began, in ms; `undefined` when that never
   * happened. 0 = the fault cost no fire.
   */
  readonly recoveryMs: number | undefined;
}

/** Everything a chaos run found. */
export interface ChaosAnalysis {
  /** Invariant (a) violations: overlapping runs of one item that no fencing explains. */
  readonly violations: string[];
  /** Overlaps explained by fencing (the cut-off side's run aborted after LOST), with length. */
  readonly fencedOverlaps: {
    readonly item: number;
    readonly instanceId: string;
    readonly overlapMs: number;
  }[];
  /** Fires of steady windows with items that did not complete within the coverage bound. */
  readonly missing: { readonly fireMs: number; readonly items: number[] }[];
  /** Completed runs of one item for one fire beyond the first (repeated work). */
  readonly duplicates: { readonly item: number; readonly fireMs: number; readonly instances: string[] }[];
  /** Convergence after each fault, in fault order. */
  readonly convergence: FaultConvergence[];
  /** Number of steady fires checked for missing runs. */
  readonly steadyFires: number;
  /** The coverage bound used: latest start of a covering run after a fire, in ms. */
  readonly coverageBoundMs: number;
  /** How long after a fault's end fires are not yet steady, in ms. */
  readonly settleMs: number;
}

/**
 * The bound after a steady fire within which each item must start a run that completes: one item
 * run (a previous run still finishing) plus a second of slack. Chaos runs keep it below the cron
 * period, so that the next fire's run cannot hide a fire that was skipped.
 *
 * @param timing - the job's timing.
 */
export function coverageBoundMs(timing: ChaosTiming): number {
  return timing.itemDurationMs + 1000;
}

/**
 * How long after a fault's end the cluster may still be recovering: the recovery target of a
 * crash (session timeout + one cron period + 1 s) plus one item run.
 *
 * @param timing - the job's timing.
 */
export function settleMs(timing: ChaosTiming): number {
  return timing.sessionTimeoutMs + timing.firePeriodMs + 1000 + timing.itemDurationMs;
}

function itemsMissingAt(
  fireMs: number,
  completed: readonly ItemRun[],
  items: readonly number[],
  boundMs: number,
) {
  return items.filter(
    (item) =>
      !completed.some((run) => run.item === item && run.startMs >= fireMs && run.startMs <= fireMs + boundMs),
  );
}

/**
 * Analyses a chaos run.
 *
 * @param runs - every item run (from the cluster logs).
 * @param timelines - every instance's timeline.
 * @param faults - the injected faults, in order.
 * @param window - `{ fromMs, toMs }`: the part of the run to judge (the fires in it).
 * @param timing - the job's timing.
 * @returns the analysis.
 */
export function analyseChaosRun(
  runs: readonly ItemRun[],
  timelines: readonly InstanceTimeline[],
  faults: readonly ChaosFault[],
  window: { readonly fromMs: number; readonly toMs: number },
  timing: ChaosTiming,
): ChaosAnalysis {
  const intervalOptions = { sessionTimeoutMs: timing.sessionTimeoutMs, nowMs: window.toMs };
  const unfenced = findOverlaps(runs, timelines, intervalOptions).filter(
    (o) => o.fencedInstanceId === undefined,
  );
  const violations = checkExclusiveExecution(runs, timelines, intervalOptions).map((violation, index) => {
    // checkExclusiveExecution lists the unfenced overlaps first, in the same order.
    const overlap = unfenced[index];
    if (overlap === undefined) return violation;
    const atMs = overlap.second.run.startMs;
    const fault = [...faults].reverse().find((f) => f.fromMs <= atMs);
    return fault === undefined
      ? `${violation} [before any fault]`
      : `${violation} [after ${fault.kind} of ${fault.target} at ${formatTime(fault.fromMs)}, ` +
          `${((atMs - fault.toMs) / 1000).toFixed(1)} s after its end]`;
  });
  const fencedOverlaps = findOverlaps(runs, timelines, intervalOptions).flatMap((overlap) =>
    overlap.fencedInstanceId === undefined
      ? []
      : [{ item: overlap.item, instanceId: overlap.fencedInstanceId, overlapMs: overlap.overlapMs }],
  );
  const items = Array.from({ length: timing.shardingTotalCount }, (_, item) => item);
  const completed = runs.filter((run) => run.outcome === 'end');
  const bound = coverageBoundMs(timing);
  const settle = settleMs(timing);
  const fires = periodicFireTimes(window.fromMs, window.toMs - bound, timing.firePeriodMs);
  const disturbed = (fireMs: number) =>
    faults.some((fault) => fault.fromMs <= fireMs + bound && fireMs <= fault.toMs + settle);
  const steady = fires.filter((fireMs) => !disturbed(fireMs));
  const missing = steady.flatMap((fireMs) => {
    const absent = itemsMissingAt(fireMs, completed, items, bound);
    return absent.length === 0 ? [] : [{ fireMs, items: absent }];
  });

  const byFire = new Map<string, ItemRun[]>();
  for (const run of completed) {
    const key = `${run.item} ${run.fireTimeMs}`;
    byFire.set(key, [...(byFire.get(key) ?? []), run]);
  }
  const duplicates = [...byFire.values()]
    .filter((group) => group.length > 1)
    .map((group) => ({
      item: group[0]?.item ?? -1,
      fireMs: group[0]?.fireTimeMs ?? 0,
      instances: group.map((run) => run.instanceId),
    }));

  /** The first fire in `[fromMs, untilMs)` from which every later fire there is covered. */
  const coveredFrom = (fromMs: number, untilMs: number): number | undefined => {
    const candidates = periodicFireTimes(fromMs, untilMs, timing.firePeriodMs);
    let first: number | undefined;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const fireMs = candidates[i] as number;
      if (itemsMissingAt(fireMs, completed, items, bound).length > 0) break;
      first = fireMs;
    }
    return first;
  };
  const convergence = faults.map((fault, index): FaultConvergence => {
    const untilMs = (faults[index + 1]?.fromMs ?? window.toMs) - bound;
    const converged = coveredFrom(fault.toMs, untilMs);
    const recovered = coveredFrom(fault.fromMs, untilMs);
    return {
      fault,
      convergenceMs: converged === undefined ? undefined : Math.max(0, converged - fault.toMs),
      recoveryMs: recovered === undefined ? undefined : Math.max(0, recovered - fault.fromMs),
    };
  });

  return {
    violations,
    fencedOverlaps,
    missing,
    duplicates,
    convergence,
    steadyFires: steady.length,
    coverageBoundMs: bound,
    settleMs: settle,
  };
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const ms = (value: number | undefined) => (value === undefined ? '-' : `${(value / 1000).toFixed(1)} s`);

/**
 * The chaos table: one row per fault kind (count, converged, median and max convergence from the
 * fault's end and recovery from its start), then
 * the totals (violations, fenced overlaps, missing, duplicates).
 *
 * @param analysis - from {@link analyseChaosRun}.
 * @param title - the first line, e.g. backend, topology, seed and minutes.
 * @returns Markdown text.
 */
export function formatChaosTable(analysis: ChaosAnalysis, title: string): string {
  const kinds = [...new Set(analysis.convergence.map((c) => c.fault.kind))].sort();
  const lines = [
    title,
    '',
    "| fault | count | converged before the next fault | convergence median | max | recovery from the fault's start median | max |",
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const stats = (values: readonly number[]) =>
    `${ms(median(values))} | ${ms(values.length ? Math.max(...values) : undefined)}`;
  for (const kind of kinds) {
    const of = analysis.convergence.filter((c) => c.fault.kind === kind);
    const times = of.flatMap((c) => (c.convergenceMs === undefined ? [] : [c.convergenceMs]));
    const recoveries = of.flatMap((c) => (c.recoveryMs === undefined ? [] : [c.recoveryMs]));
    lines.push(`| ${kind} | ${of.length} | ${times.length} | ${stats(times)} | ${stats(recoveries)} |`);
  }
  const fencedMax = Math.max(0, ...analysis.fencedOverlaps.map((o) => o.overlapMs));
  lines.push(
    '',
    '| result | count |',
    '| --- | ---: |',
    `| faults | ${analysis.convergence.length} |`,
    `| faults the harness failed to inject or heal | ${analysis.convergence.filter((c) => c.fault.error !== undefined).length} |`,
    `| violations (item on two instances at once, unfenced) | ${analysis.violations.length} |`,
    `| fenced overlaps (max ${fencedMax} ms) | ${analysis.fencedOverlaps.length} |`,
    `| missing (steady fires with an item not completed; ${analysis.steadyFires} steady fires) | ${analysis.missing.length} |`,
    `| duplicates (extra completed runs of one item for one fire) | ${analysis.duplicates.length} |`,
  );
  if (analysis.violations.length > 0)
    lines.push('', 'Violations:', ...analysis.violations.map((v) => `- ${v}`));
  if (analysis.missing.length > 0) {
    lines.push(
      '',
      'Missing:',
      ...analysis.missing
        .slice(0, 20)
        .map((m) => `- fire ${formatTime(m.fireMs)}: item(s) ${m.items.join(', ')}`),
    );
  }
  return lines.join('\n');
}
