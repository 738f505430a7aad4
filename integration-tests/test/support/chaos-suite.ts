/**
 * The short seeded chaos run of `npm test`, one body per backend: one minute of random faults
 * (see `src/chaos/chaos-run.ts`) on a single server, then the invariants over every log. The seed
 * is fixed so that a failure names a reproducible sequence (`ELASTICJOB_CHAOS_SEED` overrides it);
 * long runs use `npm run chaos`.
 */
import { describe, expect, it } from 'vitest';
import { formatChaosTable } from '../../src/chaos/chaos-report.js';
import { runChaos } from '../../src/chaos/chaos-run.js';
import type { RegistryBackendName } from '../../src/harness/registry-backends.js';

const DURATION_MS = 60_000;

/**
 * Registers the short chaos run for one backend.
 *
 * @param backend - `zookeeper`, `etcd` or `redis` (single server).
 * @param defaultSeed - the seed unless `ELASTICJOB_CHAOS_SEED` is set.
 */
export function chaosSuite(backend: RegistryBackendName, defaultSeed: number): void {
  const seed = Number(process.env.ELASTICJOB_CHAOS_SEED ?? defaultSeed);
  describe(`chaos on ${backend}`, () => {
    it(
      `one minute of seeded random faults (seed ${seed}): no item on two instances at once unless fenced, nothing missing in steady windows, convergence after every fault`,
      async () => {
        const lines: string[] = [];
        const result = await runChaos({
          backend,
          topology: 'single',
          seed,
          durationMs: DURATION_MS,
          log: (line) => lines.push(line),
        });
        const table = formatChaosTable(
          result.analysis,
          `chaos run: ${backend} single, seed ${seed}, ${DURATION_MS / 60_000} min`,
        );
        console.log(`${lines.join('\n')}\n${table}`);
        const { analysis } = result;
        expect(result.faults.length, 'faults injected').toBeGreaterThanOrEqual(3);
        expect(
          result.faults.filter((f) => f.error !== undefined),
          'faults the harness failed to inject',
        ).toEqual([]);
        expect(result.problems, 'execution log protocol').toEqual([]);
        expect(result.unexpectedExits, 'workers that crashed').toEqual([]);
        expect(analysis.violations, 'invariant (a)').toEqual([]);
        expect(analysis.missing, 'missing runs in steady windows').toEqual([]);
        expect(analysis.convergence.at(-1)?.convergenceMs, 'convergence after the last fault').toBeDefined();
      },
      DURATION_MS + 120_000,
    );
  });
}
