import { describe, expect, it } from 'vitest';
import { checkCoverage } from '../src/checks.js';
import { RunLedger } from '../src/run-ledger.js';
import { SIMULATION_EPOCH_MS } from '../src/simulation.js';
import type { ClusterSpec, JobSpec } from '../src/workload.js';

const job: JobSpec = {
  jobName: 'job0',
  periodSeconds: 1,
  shardingTotalCount: 2,
  failover: true,
  misfire: true,
  monitorExecution: true,
  maxItemDurationMs: 200,
  poolSize: 64,
  honorsAbortProbability: 1,
};
const spec: ClusterSpec = {
  seed: 0,
  sessionTimeoutMs: 2000,
  initialProcesses: 2,
  maxProcesses: 6,
  maxSkewMs: 0,
  maxLatencyMs: 0,
  maxWatchDelayMs: 0,
  jobs: [job],
  durationMs: 60_000,
  faultPhaseMs: 0,
};

function world(state: {
  now: number;
  alive: Set<string>;
  frozen?: Set<string>;
  told?: Set<string>;
  left?: Set<string>;
}) {
  return {
    now: () => state.now,
    isSessionAlive: (id: string | undefined) => id !== undefined && state.alive.has(id),
    isFrozen: (id: string) => state.frozen?.has(id) ?? false,
    knowsSessionEnded: (_process: string, id: string | undefined) =>
      id !== undefined && !!state.told?.has(id),
    isInstanceRegistered: (_job: string, instanceId: string) => !state.left?.has(instanceId),
    checksExclusion: () => true,
  };
}

function start(
  ledger: RunLedger,
  item: number,
  processId: string,
  sessionId: string,
  signal = new AbortController().signal,
  scheduledFireTimeMs?: number,
) {
  return ledger.start({
    jobName: 'job0',
    item,
    processId,
    instanceId: `${processId}-id`,
    sessionId,
    startMs: 0,
    signal,
    fencingToken: undefined,
    scheduledFireTimeMs,
    assignedTo: `${processId}-id`,
    afterLost: false,
  });
}

describe('exclusion (RunLedger)', () => {
  it('flags a run of an item that another instance runs under a live session', () => {
    const state = { now: 0, alive: new Set(['s1', 's2']) };
    const ledger = new RunLedger(world(state));
    start(ledger, 0, 'p1', 's1');
    start(ledger, 1, 'p2', 's2'); // another item: fine
    start(ledger, 0, 'p2', 's2');
    ledger.classify();
    expect(ledger.violations.map((v) => v.kind)).toEqual(['concurrent-run:?+?']);
  });

  it('accepts an overlap with a run whose session ended and whose signal was aborted', () => {
    const state = { now: 0, alive: new Set(['s2']) };
    const ledger = new RunLedger(world(state));
    const abort = new AbortController();
    const older = start(ledger, 0, 'p1', 's1', abort.signal);
    start(ledger, 0, 'p2', 's2');
    abort.abort();
    ledger.end(older, 'aborted');
    expect(ledger.violations).toEqual([]);
  });

  it('flags an older run that outlived its session and was never aborted, though its process was told', () => {
    const state = { now: 0, alive: new Set(['s2']), told: new Set<string>() };
    const ledger = new RunLedger(world(state));
    const older = start(ledger, 0, 'p1', 's1');
    start(ledger, 0, 'p2', 's2');
    state.told.add('s1'); // p1's client reports LOST
    ledger.end(older, 'finished');
    expect(ledger.violations.map((v) => v.kind)).toEqual(['stale-run-not-aborted']);
  });

  it('accepts an overlap with an aborted run whose job instance has left (shut down), session alive', () => {
    // User code that ignores its abort past shutdownTimeoutMs: the kernel removed the instance node.
    const state = { now: 0, alive: new Set(['s1', 's2']), left: new Set(['p1-id']) };
    const ledger = new RunLedger(world(state));
    const abort = new AbortController();
    const older = start(ledger, 0, 'p1', 's1', abort.signal);
    abort.abort();
    start(ledger, 0, 'p2', 's2');
    ledger.end(older, 'finished');
    expect(ledger.violations).toEqual([]);
  });

  it('flags an overlap with a run whose instance has left but whose signal was never aborted', () => {
    const state = { now: 0, alive: new Set(['s1', 's2']), left: new Set(['p1-id']) };
    const ledger = new RunLedger(world(state));
    start(ledger, 0, 'p1', 's1');
    start(ledger, 0, 'p2', 's2');
    ledger.classify();
    expect(ledger.violations.map((v) => v.kind)).toEqual(['concurrent-run:?+?']);
  });

  it('accepts an older run that ended before its process was told that its session had ended', () => {
    // A partitioned client learns LOST only when it reconnects: until then only fencing protects.
    const state = { now: 0, alive: new Set(['s2']) };
    const ledger = new RunLedger(world(state));
    const older = start(ledger, 0, 'p1', 's1');
    start(ledger, 0, 'p2', 's2');
    ledger.end(older, 'finished');
    expect(ledger.violations).toEqual([]);
  });
});

describe('one run per fire (RunLedger)', () => {
  it('flags a second run of the same cron fire of an item, on another instance, after the first ended', () => {
    const state = { now: 0, alive: new Set(['s1', 's2']) };
    const ledger = new RunLedger(world(state));
    const first = start(ledger, 0, 'p1', 's1', undefined, 10_000);
    ledger.end(first, 'finished');
    start(ledger, 1, 'p2', 's2', undefined, 10_000); // another item of the same fire
    ledger.end(start(ledger, 0, 'p2', 's2', undefined, 20_000), 'finished'); // the next fire
    ledger.end(start(ledger, 0, 'p2', 's2', undefined, undefined), 'finished'); // a misfire re-run
    expect(ledger.violations).toEqual([]);
    start(ledger, 0, 'p2', 's2', undefined, 10_000);
    expect(ledger.violations.map((v) => v.kind)).toEqual(['fire-run-twice']);
  });
});

describe('no lost item (checkCoverage)', () => {
  it('flags an item that stops running in a quiet window, and only that item', () => {
    const state = { now: 0, alive: new Set(['s1']) };
    const ledger = new RunLedger(world(state));
    for (let second = 1; second < 60; second++) {
      for (const item of [0, 1]) {
        if (item === 1 && second > 30) continue; // item 1 is lost from 30 s on
        state.now = SIMULATION_EPOCH_MS + second * 1000;
        const run = start(ledger, item, 'p1', 's1');
        (run as { startMs: number }).startMs = state.now;
        state.now += 100;
        ledger.end(run, 'finished');
      }
    }
    const checked = checkCoverage({
      spec,
      ledger,
      disturbances: [],
      itemCounts: new Map([['job0', [{ fromMs: SIMULATION_EPOCH_MS, count: 2 }]]]),
      startMs: SIMULATION_EPOCH_MS,
      endMs: SIMULATION_EPOCH_MS + 60_000,
    });
    expect(checked).toBeGreaterThan(50);
    expect(ledger.violations.map((v) => `${v.kind} ${v.item}`)).toEqual(['lost-item 1']);
    expect(ledger.violations[0]?.message).toMatch(/job0 items 1 of 2: the fire at 31000 ms/);
  });

  it('does not check fires near a disturbance', () => {
    const state = { now: 0, alive: new Set(['s1']) };
    const ledger = new RunLedger(world(state));
    const checked = checkCoverage({
      spec,
      ledger,
      disturbances: [{ fromMs: SIMULATION_EPOCH_MS, toMs: SIMULATION_EPOCH_MS + 60_000 }],
      itemCounts: new Map([['job0', [{ fromMs: SIMULATION_EPOCH_MS, count: 2 }]]]),
      startMs: SIMULATION_EPOCH_MS,
      endMs: SIMULATION_EPOCH_MS + 60_000,
    });
    expect(checked).toBe(0);
    expect(ledger.violations).toEqual([]);
  });
});
