/**
 * Seeds that found kernel defects, kept as regression tests: each must run with no violation.
 * On the kernel of main 1d1336b they fail with the violation named in each case.
 */
import { describe, expect, it } from 'vitest';
import { simulateSeed } from '../src/simulation.js';

async function violationsOf(seed: number): Promise<string[]> {
  const result = await simulateSeed(seed, { minutes: 2 });
  return result.violations.map((violation) => `${violation.kind}: ${violation.message}`);
}

describe('regression seeds (2 simulated minutes each)', () => {
  // On 1d1336b: concurrent-run:failover-overlap(FAILOVER+MISFIRE). p2 crashes while running item
  // 2; p1 runs it by failover; p4, its owner after resharding, runs it as a misfire re-run meanwhile.
  it('seed 14: no misfire re-run overlaps a failover run', async () => {
    expect(await violationsOf(14)).toEqual([]);
  });

  // On 1d1336b: concurrent-run:failover-overlap(FAILOVER+NORMAL_TRIGGER): a normal run of an item
  // while another instance runs it by failover.
  it('seed 8: no normal run overlaps a failover run', async () => {
    expect(await violationsOf(8)).toEqual([]);
  });

  // On 1d1336b: concurrent-run:stale-assignment-after-lost. After LOST → RECONNECTED an instance
  // runs items the registry now assigns to another instance, while that one runs them.
  it('seed 4: no run on a stale assignment after LOST → RECONNECTED', async () => {
    expect(await violationsOf(4)).toEqual([]);
  });

  // On 1d1336b: lost-item. After a disconnect ending at the session timeout and a session expiry,
  // job0 stops running on its only instance for over a minute.
  it('seed 47: no item stops running after a session loss', async () => {
    expect(await violationsOf(47)).toEqual([]);
  });
});
