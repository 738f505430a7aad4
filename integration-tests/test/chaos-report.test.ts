/**
 * The chaos analysis on synthetic runs: steady windows, missing runs, duplicates and convergence
 * times must be found where they are and nowhere else; and the fault sequence follows the seed.
 */
import { describe, expect, it } from 'vitest';
import {
  analyseChaosRun,
  type ChaosFault,
  type ChaosTiming,
  coverageBoundMs,
  formatChaosTable,
  settleMs,
} from '../src/chaos/chaos-report.js';
import { SeededRandom } from '../src/chaos/random.js';
import type { InstanceTimeline, ItemRun } from '../src/harness/checker.js';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');
const TIMING: ChaosTiming = {
  sessionTimeoutMs: 3000,
  firePeriodMs: 2000,
  itemDurationMs: 500,
  shardingTotalCount: 2,
};
const A = 'a';
const B = 'b';

function run(
  instanceId: string,
  item: number,
  startAfterT0: number,
  outcome: ItemRun['outcome'] = 'end',
): ItemRun {
  const startMs = T0 + startAfterT0;
  return {
    instanceId,
    item,
    fireTimeMs: Math.floor(startMs / 2000) * 2000,
    taskId: `t-${instanceId}-${item}-${startAfterT0}`,
    startMs,
    stopMs: outcome === 'open' ? undefined : startMs + TIMING.itemDurationMs,
    outcome,
  };
}

/** Both items complete at every fire of `[from, to)` (ms after T0), on A and B. */
function everyFire(from: number, to: number, skip: (fire: number, item: number) => boolean = () => false) {
  const runs: ItemRun[] = [];
  for (let fire = from; fire < to; fire += TIMING.firePeriodMs) {
    for (const item of [0, 1]) if (!skip(fire, item)) runs.push(run(item === 0 ? A : B, item, fire + 10));
  }
  return runs;
}

const timelines: InstanceTimeline[] = [
  { instanceId: A, goneAtMs: undefined, pauses: [], events: [] },
  { instanceId: B, goneAtMs: undefined, pauses: [], events: [] },
];
const WINDOW = { fromMs: T0, toMs: T0 + 60_000 };

describe('analyseChaosRun', () => {
  it('finds nothing when every item completes at every fire', () => {
    const fault: ChaosFault = { kind: 'kill9', target: A, fromMs: T0 + 20_000, toMs: T0 + 21_000 };
    const analysis = analyseChaosRun(everyFire(0, 60_000), timelines, [fault], WINDOW, TIMING);
    expect(analysis.violations).toEqual([]);
    expect(analysis.missing).toEqual([]);
    expect(analysis.duplicates).toEqual([]);
    expect(analysis.convergence.map((c) => c.convergenceMs)).toEqual([1000]);
    expect(analysis.convergence.map((c) => c.recoveryMs)).toEqual([0]); // no fire lost
    expect(analysis.steadyFires).toBeGreaterThan(15);
  });

  it('reports a missing item only at steady fires, not while a fault settles', () => {
    const fault: ChaosFault = { kind: 'partition-long', target: A, fromMs: T0 + 20_000, toMs: T0 + 25_000 };
    // Item 0 misses the fire at 22 s (inside the fault) and at 50 s (steady).
    const runs = everyFire(0, 60_000, (fire, item) => item === 0 && (fire === 22_000 || fire === 50_000));
    const analysis = analyseChaosRun(runs, timelines, [fault], WINDOW, TIMING);
    expect(analysis.missing).toEqual([{ fireMs: T0 + 50_000, items: [0] }]);
    // Convergence: the first fire after which every fire up to the end is covered is 52 s.
    expect(analysis.convergence[0]?.convergenceMs).toBe(52_000 - 25_000);
    expect(analysis.convergence[0]?.recoveryMs).toBe(52_000 - 20_000);
    expect(settleMs(TIMING)).toBe(3000 + 2000 + 1000 + 500);
    expect(coverageBoundMs(TIMING)).toBe(500 + 1000);
  });

  it('reports no convergence when the next fault comes before every item runs again', () => {
    const faults: ChaosFault[] = [
      { kind: 'sigstop', target: A, fromMs: T0 + 10_000, toMs: T0 + 14_000 },
      { kind: 'kill9', target: B, fromMs: T0 + 20_000, toMs: T0 + 21_000 },
    ];
    const runs = everyFire(0, 60_000, (fire, item) => item === 0 && fire >= 14_000 && fire < 30_000);
    const analysis = analyseChaosRun(runs, timelines, faults, WINDOW, TIMING);
    expect(analysis.convergence.map((c) => c.convergenceMs)).toEqual([undefined, 30_000 - 21_000]);
    expect(analysis.convergence.map((c) => c.recoveryMs)).toEqual([undefined, 30_000 - 20_000]);
    expect(formatChaosTable(analysis, 'title')).toMatch(/\| sigstop \| 1 \| 0 \| - \| - \| - \| - \|/);
    expect(formatChaosTable(analysis, 'title')).toMatch(
      /\| kill9 \| 1 \| 1 \| 9\.0 s \| 9\.0 s \| 10\.0 s \| 10\.0 s \|/,
    );
  });

  it('counts overlapping runs as violations and a second completed run of a fire as a duplicate', () => {
    const runs = [...everyFire(0, 60_000), run(B, 0, 30_100)];
    const analysis = analyseChaosRun(runs, timelines, [], WINDOW, TIMING);
    expect(analysis.violations).toHaveLength(1);
    expect(analysis.violations[0]).toMatch(/item 0 ran on a and b at once .* \[before any fault\]$/);
    const fault: ChaosFault = { kind: 'sigstop', target: B, fromMs: T0 + 25_000, toMs: T0 + 29_000 };
    expect(analyseChaosRun(runs, timelines, [fault], WINDOW, TIMING).violations[0]).toMatch(
      /\[after sigstop of b at 10:00:25\.000, 1\.1 s after its end\]$/,
    );
    expect(analysis.duplicates).toEqual([{ item: 0, fireMs: T0 + 30_000, instances: [A, B] }]);
  });
});

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => random.int(0, 9));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    for (const value of draw(1)) expect(value >= 0 && value <= 9).toBe(true);
  });
});
