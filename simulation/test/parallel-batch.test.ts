import { describe, expect, it } from 'vitest';
import type * as Batch from '../src/batch.js';

// Worker threads load the built `dist/seed-worker.js`, so this test runs the built module
// (`npm test` builds first). The specifier is computed so that the type check, which may run
// before any build (`npm run lint` on a clean clone), does not need `dist/`.
async function builtBatch(): Promise<typeof Batch> {
  return (await import(new URL('../dist/batch.js', import.meta.url).href)) as typeof Batch;
}

describe('runSeeds with worker threads', () => {
  it('gives the same figures per seed as one thread', async () => {
    const { runSeeds } = await builtBatch();
    const options = { from: 5, seeds: 4, minutes: 0.5 };
    const one = await runSeeds({ ...options, workers: 1 });
    const seen: number[] = [];
    const two = await runSeeds({ ...options, workers: 2, onResult: (outcome) => seen.push(outcome.seed) });
    expect(seen.sort((a, b) => a - b)).toEqual([5, 6, 7, 8]);
    expect(one.runs).toBeGreaterThan(0);
    expect(two.runs).toBe(one.runs);
    expect(two.clusterHours).toBe(one.clusterHours);
    expect([...two.seedsByKind]).toEqual([...one.seedsByKind]);
    expect(two.failures.map((f) => f.seed)).toEqual(one.failures.map((f) => f.seed));
  });
});
