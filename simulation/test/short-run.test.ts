/**
 * The short simulation run of `npm test`: 150 seeds of one simulated minute each (about 50 s of CPU),
 * every invariant checked. The long runs are `npm run simulate -- --seeds 100000`.
 */
import { describe, expect, it } from 'vitest';
import { runSeeds } from '../src/batch.js';

const SEEDS = 150;
const FIRST_SEED = 1_000_000;

describe('short simulation run', () => {
  it(`${SEEDS} seeds from ${FIRST_SEED}, one simulated minute each, find no violation`, async () => {
    const summary = await runSeeds({ from: FIRST_SEED, seeds: SEEDS, minutes: 1 });
    const failures = summary.failures.map(
      (failure) => `seed ${failure.seed}: ${[...new Set(failure.violations.map((v) => v.kind))].join(', ')}`,
    );
    expect(summary.runs).toBeGreaterThan(SEEDS);
    expect(failures).toEqual([]);
  }, 600_000);
});
