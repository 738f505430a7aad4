import { describe, expect, it } from 'vitest';
import { simulateSeed } from '../src/simulation.js';

describe('determinism', () => {
  it('replays a seed exactly: same trace, same runs, same violations', async () => {
    const first = await simulateSeed(14, { minutes: 1.5 });
    const second = await simulateSeed(14, { minutes: 1.5 });
    expect(first.runCount).toBeGreaterThan(0);
    expect(second.trace.format()).toBe(first.trace.format());
    expect(second.violations.map((v) => v.message)).toEqual(first.violations.map((v) => v.message));
  });

  it('gives different seeds different histories', async () => {
    const a = await simulateSeed(1, { minutes: 0.5 });
    const b = await simulateSeed(2, { minutes: 0.5 });
    expect(a.trace.format()).not.toBe(b.trace.format());
  });
});
