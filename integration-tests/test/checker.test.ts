/**
 * The checker on synthetic logs: each invariant has cases that must pass and cases that must fail,
 * so that a green scenario means the invariant held, not that the checker looked away.
 */
import { describe, expect, it } from 'vitest';
import {
  buildRuns,
  checkCompleteness,
  checkConvergence,
  checkExclusiveExecution,
  findOverlaps,
  type InstanceTimeline,
  measureFailover,
  periodicFireTimes,
} from '../src/harness/checker.js';
import {
  type ExecutionLogEntry,
  formatInstanceLine,
  formatItemLine,
  type InstanceEventType,
  parseExecutionLog,
} from '../src/harness/execution-log.js';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const A = '127.0.0.1@-@w00';
const B = '127.0.0.1@-@w01';
const C = '127.0.0.1@-@w02';
const SESSION = { sessionTimeoutMs: 3000 };

/** Log text of one run (`start` at `s`, then `end`/`abort` at `e` unless `e` is undefined), ms after T0. */
function run(
  instanceId: string,
  item: number,
  s: number,
  e?: number,
  outcome: 'end' | 'abort' = 'end',
): string {
  const fireTimeMs = T0 + s;
  const taskId = `orders@-@${item}@-@READY@-@${instanceId}`;
  const start = formatItemLine({ fireTimeMs, instanceId, item, event: 'start', wallMs: T0 + s, taskId });
  if (e === undefined) return start;
  return start + formatItemLine({ fireTimeMs, instanceId, item, event: outcome, wallMs: T0 + e, taskId });
}

function event(instanceId: string, name: InstanceEventType, at: number): string {
  return formatInstanceLine({ instanceId, event: name, wallMs: T0 + at });
}

function entries(...texts: string[]): ExecutionLogEntry[] {
  const parsed = parseExecutionLog(texts.join(''));
  expect(parsed.malformed).toEqual([]);
  return parsed.entries;
}

function timeline(
  instanceId: string,
  extra: { goneAt?: number; pauses?: Array<[number, number | undefined]>; events?: ExecutionLogEntry[] } = {},
): InstanceTimeline {
  return {
    instanceId,
    goneAtMs: extra.goneAt === undefined ? undefined : T0 + extra.goneAt,
    pauses: (extra.pauses ?? []).map(([from, to]) => ({
      fromMs: T0 + from,
      toMs: to === undefined ? undefined : T0 + to,
    })),
    events: (extra.events ?? []).flatMap((e) =>
      e.kind === 'instance' && e.instanceId === instanceId ? [{ event: e.event, wallMs: e.wallMs }] : [],
    ),
  };
}

function exclusive(texts: string[], timelines: InstanceTimeline[], nowAfterT0 = 60_000): string[] {
  const built = buildRuns(entries(...texts));
  expect(built.violations).toEqual([]);
  return checkExclusiveExecution(built.runs, timelines, { ...SESSION, nowMs: T0 + nowAfterT0 });
}

describe('execution log format', () => {
  it('round-trips item and instance lines and ignores a line still being written', () => {
    const text = run(A, 3, 0, 500) + event(A, 'LOST', 700) + `${T0} ${A} 1 sta`;
    const parsed = parseExecutionLog(text);
    expect(parsed.malformed).toEqual([]);
    expect(parsed.entries).toEqual([
      {
        kind: 'item',
        fireTimeMs: T0,
        instanceId: A,
        item: 3,
        event: 'start',
        wallMs: T0,
        taskId: `orders@-@3@-@READY@-@${A}`,
      },
      {
        kind: 'item',
        fireTimeMs: T0,
        instanceId: A,
        item: 3,
        event: 'end',
        wallMs: T0 + 500,
        taskId: `orders@-@3@-@READY@-@${A}`,
      },
      { kind: 'instance', instanceId: A, event: 'LOST', wallMs: T0 + 700 },
    ]);
  });

  it('reports complete lines that break the format', () => {
    const parsed = parseExecutionLog(
      `${T0} ${A} x start 1 t\n- ${A} - NAPPING 5\n${T0} ${A} 1 done ${T0} t\n`,
    );
    expect(parsed.entries).toEqual([]);
    expect(parsed.malformed).toHaveLength(3);
  });

  it('refuses ids with whitespace', () => {
    expect(() => formatInstanceLine({ instanceId: 'a b', event: 'READY', wallMs: 1 })).toThrow(TypeError);
  });
});

describe('buildRuns', () => {
  it('pairs start with end/abort per instance, item, fire and task; open runs stay open', () => {
    const built = buildRuns(entries(run(A, 0, 0, 500), run(B, 1, 10, 300, 'abort'), run(A, 1, 600)));
    expect(built.violations).toEqual([]);
    expect(
      built.runs.map((r) => [r.instanceId, r.item, r.startMs - T0, r.stopMs && r.stopMs - T0, r.outcome]),
    ).toEqual([
      [A, 0, 0, 500, 'end'],
      [B, 1, 10, 300, 'abort'],
      [A, 1, 600, undefined, 'open'],
    ]);
  });

  it('reports a stop without a start and a second start of an open run', () => {
    const end = formatItemLine({
      fireTimeMs: T0,
      instanceId: A,
      item: 0,
      event: 'end',
      wallMs: T0 + 5,
      taskId: 't',
    });
    const start = formatItemLine({
      fireTimeMs: T0,
      instanceId: B,
      item: 0,
      event: 'start',
      wallMs: T0,
      taskId: 't',
    });
    const built = buildRuns(parseExecutionLog(end + start + start).entries);
    expect(built.violations).toHaveLength(2);
    expect(built.violations[0]).toMatch(/'end' .* without a 'start'/);
    expect(built.violations[1]).toMatch(/second 'start'/);
  });
});

describe('invariant (a): exclusive execution', () => {
  it('passes for back-to-back runs of one item on different instances', () => {
    expect(
      exclusive([run(A, 0, 0, 500), run(B, 0, 500, 900), run(A, 0, 1000, 1500)], [timeline(A), timeline(B)]),
    ).toEqual([]);
  });

  it('fails for overlapping runs of one item on two instances', () => {
    const violations = exclusive([run(A, 0, 0, 500), run(B, 0, 499, 900)], [timeline(A), timeline(B)]);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/item 0 ran on .*w00 and .*w01 at once for 1 ms/);
  });

  it('fails for one item running twice at once on the same instance', () => {
    const violations = exclusive([run(A, 2, 0, 800), run(A, 2, 300, 900)], [timeline(A)]);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/item 2 ran twice on/);
  });

  it('ends the open run of a killed instance at the kill: a takeover after it passes', () => {
    expect(
      exclusive([run(A, 0, 0), run(B, 0, 3200, 6200)], [timeline(A, { goneAt: 1000 }), timeline(B)]),
    ).toEqual([]);
  });

  it('fails when an item starts elsewhere while an alive instance still runs it (no end logged yet)', () => {
    const violations = exclusive([run(A, 0, 0), run(B, 0, 3200, 6200)], [timeline(A), timeline(B)], 7000);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/no end logged/);
  });

  it('tolerates the frozen run of a process SIGSTOPped beyond its session, taken over after half a session', () => {
    // A runs item 0 from 0, is frozen at 1000..6000 (session 3000), ends after resuming; B fails
    // over at 4200; A's new session is reported at 6100 and it starts again only after that.
    const texts = [
      run(A, 0, 0, 6005),
      event(A, 'LOST', 6050),
      event(A, 'RECONNECTED', 6100),
      run(A, 1, 7000, 7500),
    ];
    const events = entries(...texts);
    expect(
      exclusive(
        [...texts, run(B, 0, 4200, 4800)],
        [timeline(A, { pauses: [[1000, 6000]], events }), timeline(B)],
      ),
    ).toEqual([]);
  });

  it('fails when a frozen instance is taken over before half a session could have passed', () => {
    const violations = exclusive(
      [run(A, 0, 0, 6005), run(B, 0, 2000, 2500)],
      [timeline(A, { pauses: [[1000, 6000]] }), timeline(B)],
    );
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/item 0 ran on/);
  });

  it('gives no tolerance for a pause shorter than the session: the session is alive, nobody may take over', () => {
    const violations = exclusive(
      [run(A, 0, 0, 2600), run(B, 0, 2200, 2500)],
      [timeline(A, { pauses: [[500, 2500]] }), timeline(B)],
    );
    expect(violations).toHaveLength(1);
  });

  it('fails when the resumed instance starts an item before its new session was reported', () => {
    const texts = [run(A, 0, 0, 500), run(A, 1, 6010, 6600), event(A, 'RECONNECTED', 6300)];
    const violations = exclusive(texts, [timeline(A, { pauses: [[1000, 6000]], events: entries(...texts) })]);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/started item 1 .* after resuming .* before its new session \(reported at/);
  });

  it('fails when the resumed instance starts items and never reports a new session', () => {
    const violations = exclusive([run(A, 1, 6010, 6600)], [timeline(A, { pauses: [[1000, 6000]] })]);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/never reported/);
  });

  it('tolerates the overlap of a cut-off instance whose run was aborted after it logged LOST (fenced), and reports it', () => {
    // A is partitioned at 1000 (session 3000); B takes item 0 over at 4200; A learns LOST at 6000
    // and its run is aborted at 6010.
    const texts = [run(A, 0, 0, 6010, 'abort'), event(A, 'LOST', 6000)];
    const timelines = [timeline(A, { events: entries(...texts) }), timeline(B)];
    const all = [...texts, run(B, 0, 4200, 4800)];
    expect(exclusive(all, timelines)).toEqual([]);
    const built = buildRuns(entries(...all));
    const overlaps = findOverlaps(built.runs, timelines, { ...SESSION, nowMs: T0 + 60_000 });
    expect(overlaps.map((o) => ({ item: o.item, ms: o.overlapMs, fenced: o.fencedInstanceId }))).toEqual([
      { item: 0, ms: 600, fenced: A },
    ]);
  });

  it('fails when the cut-off run ended normally, or was aborted without a LOST while it ran', () => {
    const lostAfter = [run(A, 0, 0, 6010, 'abort'), event(A, 'LOST', 6500)];
    expect(
      exclusive(
        [...lostAfter, run(B, 0, 4200, 4800)],
        [timeline(A, { events: entries(...lostAfter) }), timeline(B)],
      ),
    ).toHaveLength(1);
    const ended = [run(A, 0, 0, 6010, 'end'), event(A, 'LOST', 6000)];
    expect(
      exclusive([...ended, run(B, 0, 4200, 4800)], [timeline(A, { events: entries(...ended) }), timeline(B)]),
    ).toHaveLength(1);
  });
});

describe('invariant (b): completeness', () => {
  const items = [0, 1];

  it('passes when each fire of each item is covered by a completed run, coalesced misfire runs included', () => {
    // Item 0 runs 2.5 s per run: fires 1000 and 2000 are covered by the run started at 2510.
    const built = buildRuns(
      entries(
        run(A, 0, 0, 2500),
        run(A, 0, 2510, 5000),
        run(B, 1, 5, 300),
        run(B, 1, 1005, 1300),
        run(B, 1, 2004, 2300),
      ),
    );
    const violations = checkCompleteness(built.runs, {
      items,
      fireTimesMs: periodicFireTimes(T0, T0 + 2000, 1000),
      coverageBoundMs: 3000,
    });
    expect(violations).toEqual([]);
  });

  it('fails for an item whose run was aborted and never re-run', () => {
    const built = buildRuns(entries(run(A, 0, 0, 400, 'abort'), run(B, 1, 5, 300)));
    const violations = checkCompleteness(built.runs, { items, fireTimesMs: [T0], coverageBoundMs: 3000 });
    expect(violations).toEqual([expect.stringMatching(/item\(s\) 0 did not complete/)]);
  });

  it('fails for an item that is still running (open) or re-ran too late', () => {
    const built = buildRuns(entries(run(A, 0, 0), run(B, 0, 3500, 3800), run(B, 1, 5, 300)));
    const violations = checkCompleteness(built.runs, { items, fireTimesMs: [T0], coverageBoundMs: 3000 });
    expect(violations).toEqual([expect.stringMatching(/item\(s\) 0 /)]);
  });

  it('does not count a run that started before the fire', () => {
    const built = buildRuns(entries(run(A, 0, 999, 1500), run(A, 1, 1000, 1500)));
    expect(
      checkCompleteness(built.runs, { items, fireTimesMs: [T0 + 1000], coverageBoundMs: 3000 }),
    ).toHaveLength(1);
  });
});

describe('invariant (c): convergence', () => {
  const assignment = new Map([
    [0, A],
    [1, B],
    [2, C],
  ]);

  it('passes when every run of the window is on the owner and each item completed there', () => {
    const built = buildRuns(
      entries(run(B, 0, 100, 400), run(A, 0, 1000, 1300), run(B, 1, 1000, 1300), run(C, 2, 1001, 1400)),
    );
    expect(checkConvergence(built.runs, { assignment, fromMs: T0 + 1000, toMs: T0 + 2000 })).toEqual([]);
  });

  it('fails when an item runs on an instance it is not assigned to', () => {
    const built = buildRuns(
      entries(run(A, 0, 1000, 1300), run(B, 1, 1000, 1300), run(C, 2, 1001, 1400), run(C, 1, 1500, 1700)),
    );
    expect(checkConvergence(built.runs, { assignment, fromMs: T0 + 1000, toMs: T0 + 2000 })).toEqual([
      expect.stringMatching(/item 1 started on .*w02 .* assigned to .*w01/),
    ]);
  });

  it('fails when an item did not complete on its owner in the window', () => {
    const built = buildRuns(entries(run(A, 0, 1000, 1300), run(B, 1, 1000, 1300, 'abort'), run(C, 2, 1001)));
    expect(checkConvergence(built.runs, { assignment, fromMs: T0 + 1000, toMs: T0 + 2000 })).toEqual([
      expect.stringMatching(/item 1 did not complete/),
      expect.stringMatching(/item 2 did not complete/),
    ]);
  });
});

describe('measureFailover', () => {
  it('finds the in-flight items of the killed instance and the first start elsewhere after the kill', () => {
    const built = buildRuns(
      entries(run(A, 0, 0, 500), run(A, 1, 600), run(A, 2, 700), run(C, 1, 900, 1000), run(B, 1, 4100, 7000)),
    );
    expect(measureFailover(built.runs, A, T0 + 1000)).toEqual([
      { item: 1, inFlightSinceMs: T0 + 600, takenOverBy: B, takeoverStartMs: T0 + 4100, latencyMs: 3100 },
      {
        item: 2,
        inFlightSinceMs: T0 + 700,
        takenOverBy: undefined,
        takeoverStartMs: undefined,
        latencyMs: undefined,
      },
    ]);
  });
});

describe('periodicFireTimes', () => {
  it('lists the multiples of the period within the window, bounds included', () => {
    expect(periodicFireTimes(T0 + 1, T0 + 3000, 1000)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
  });
});
