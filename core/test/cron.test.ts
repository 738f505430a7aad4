/**
 * Focused behaviour of the Quartz cron layer. Expected fire times marked "Quartz 2.3.2" were
 * computed by Quartz's own `CronExpression.getTimeAfter` (the same engine as the shared corpus).
 */
import { describe, expect, it } from 'vitest';
import { parseCronInProcessZone } from '../src/cron/cron-expression.js';
import { type CronExpression, CronExpressionError, parseCron, parseTimeZone } from '../src/cron/index.js';

/** The next `count` fire times after `fromIso`, as ISO strings. */
function fires(cron: CronExpression, fromIso: string, count: number): string[] {
  const result: string[] = [];
  let after = new Date(fromIso);
  for (let i = 0; i < count; i++) {
    const next = cron.next(after);
    if (next === undefined) break;
    result.push(next.toISOString());
    after = next;
  }
  return result;
}

function errorOf(run: () => unknown): CronExpressionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CronExpressionError);
    return error as CronExpressionError;
  }
  throw new Error('expected a CronExpressionError');
}

describe('parseCron: the Quartz dialect', () => {
  it('keeps the expression and defaults to UTC', () => {
    const cron = parseCron('0 0/5 * * * ?');
    expect(cron.expression).toBe('0 0/5 * * * ?');
    expect(cron.timeZone).toBeUndefined();
    expect(fires(cron, '2026-01-01T00:01:00Z', 2)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:10:00.000Z',
    ]);
  });

  it('returns the first fire strictly after `after`, ignoring its milliseconds', () => {
    const cron = parseCron('* * * * * ?');
    expect(cron.next(new Date('2026-01-01T00:00:00.000Z'))?.toISOString()).toBe('2026-01-01T00:00:01.000Z');
    expect(cron.next(new Date('2026-01-01T00:00:00.500Z'))?.toISOString()).toBe('2026-01-01T00:00:01.000Z');
  });

  it('numbers days of the week 1-7 = SUN-SAT, not Unix 0-6', () => {
    // 2026-01-01 is a Thursday; 2-6 is Monday-Friday in Quartz (Tuesday-Saturday in Unix cron).
    expect(fires(parseCron('0 0 12 ? * 2-6'), '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-01T12:00:00.000Z',
      '2026-01-02T12:00:00.000Z',
      '2026-01-05T12:00:00.000Z',
      '2026-01-06T12:00:00.000Z',
      '2026-01-07T12:00:00.000Z',
    ]);
  });

  it('reads month and day names in any case, and wrapping ranges (Quartz 2.3.2)', () => {
    expect(fires(parseCron('0 0 12 ? jan,Jul sun#1'), '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-04T12:00:00.000Z',
      '2026-07-05T12:00:00.000Z',
      '2027-01-03T12:00:00.000Z',
    ]);
    expect(fires(parseCron('0 0 12 ? * FRI-MON'), '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-02T12:00:00.000Z',
      '2026-01-03T12:00:00.000Z',
      '2026-01-04T12:00:00.000Z',
      '2026-01-05T12:00:00.000Z',
      '2026-01-09T12:00:00.000Z',
    ]);
    expect(fires(parseCron('0 0 22-2 * * ?'), '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T22:00:00.000Z',
      '2026-01-01T23:00:00.000Z',
    ]);
  });

  it('treats a numeric-start step as start-to-maximum: 5/56 is only second 5, /5 is */5', () => {
    expect(fires(parseCron('5/56 * * * * ?'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-01T00:00:05.000Z',
      '2026-01-01T00:01:05.000Z',
    ]);
    expect(fires(parseCron('/20 * * * * ?'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
    ]);
  });

  it('supports L, L-n, LW, L-nW and nW in day-of-month (Quartz 2.3.2)', () => {
    expect(fires(parseCron('0 0 12 L * ?'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-31T12:00:00.000Z',
      '2026-02-28T12:00:00.000Z',
    ]);
    expect(fires(parseCron('0 0 12 L-2 * ?'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-29T12:00:00.000Z',
      '2026-02-26T12:00:00.000Z',
    ]);
    expect(fires(parseCron('0 15 10 LW * ?', { timeZone: 'GMT+08:00' }), '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-30T02:15:00.000Z',
      '2026-02-27T02:15:00.000Z',
      '2026-03-31T02:15:00.000Z',
    ]);
    expect(
      fires(parseCron('0 0 12 L-3W * ?', { timeZone: 'Europe/Berlin' }), '2026-01-01T00:00:00Z', 4),
    ).toEqual([
      '2026-01-28T11:00:00.000Z',
      '2026-02-25T11:00:00.000Z',
      '2026-03-27T11:00:00.000Z',
      '2026-04-27T10:00:00.000Z',
    ]);
    // 2026-02-15 is a Sunday: the nearest weekday is Monday the 16th; 1W never leaves the month.
    expect(fires(parseCron('0 0 12 15W 2 ?'), '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-02-16T12:00:00.000Z',
    ]);
    expect(fires(parseCron('0 0 12 1W 8 ?'), '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-08-03T12:00:00.000Z',
    ]);
  });

  it("reproduces Quartz's 31W in a 30-day month whose next month starts on a Saturday", () => {
    // Quartz 2.3.2: 1 Dec 2029 is a Saturday, so 31W fires on Friday 30 Nov 2029.
    expect(fires(parseCron('0 0 12 31W * ?'), '2029-10-01T00:00:00Z', 2)).toEqual([
      '2029-10-31T12:00:00.000Z',
      '2029-11-30T12:00:00.000Z',
    ]);
  });

  it('supports nL, n#k and L (= SAT) in day-of-week (Quartz 2.3.2)', () => {
    expect(
      fires(parseCron('0 15 10 ? * 6L', { timeZone: 'Asia/Shanghai' }), '2026-01-01T00:00:00Z', 2),
    ).toEqual(['2026-01-30T02:15:00.000Z', '2026-02-27T02:15:00.000Z']);
    expect(
      fires(parseCron('0 15 10 ? * 6#3', { timeZone: 'America/New_York' }), '2026-01-01T00:00:00Z', 3),
    ).toEqual(['2026-01-16T15:15:00.000Z', '2026-02-20T15:15:00.000Z', '2026-03-20T14:15:00.000Z']);
    expect(fires(parseCron('0 15 10 ? * L'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-03T10:15:00.000Z',
      '2026-01-10T10:15:00.000Z',
    ]);
    // A fifth Saturday exists only in some months.
    expect(fires(parseCron('0 0 12 ? * SAT#5'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-31T12:00:00.000Z',
      '2026-05-30T12:00:00.000Z',
    ]);
  });

  it('honours the year field and returns undefined when the years are over', () => {
    const cron = parseCron('0 0 12 1 1 ? 2027-2028');
    expect(fires(cron, '2026-06-01T00:00:00Z', 5)).toEqual([
      '2027-01-01T12:00:00.000Z',
      '2028-01-01T12:00:00.000Z',
    ]);
    expect(cron.next(new Date('2028-06-01T00:00:00Z'))).toBeUndefined();
  });

  it('returns undefined for dates that never exist', () => {
    expect(parseCron('0 0 12 30 2 ?').next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(parseCron('0 0 12 31 4,6,9,11 ?').next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(parseCron('0 0 12 L-30 2 ?').next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('rejects an invalid `after`', () => {
    expect(() => parseCron('* * * * * ?').next(new Date(Number.NaN))).toThrow(TypeError);
  });
});

describe('parseCron: far-future fire times', () => {
  it('finds 29 February 2096 and skips 2100 (not a leap year) (Quartz 2.3.2)', () => {
    expect(fires(parseCron('0 0 0 29 2 ? 2096'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2096-02-29T00:00:00.000Z',
    ]);
    expect(fires(parseCron('0 0 0 29 2 ?'), '2099-01-01T00:00:00Z', 2)).toEqual([
      '2104-02-29T00:00:00.000Z',
      '2108-02-29T00:00:00.000Z',
    ]);
  });

  it('steps through a yearly schedule decades ahead in a zone', () => {
    const cron = parseCron('0 0 9 1 1 ?', { timeZone: 'Asia/Kolkata' });
    const all = fires(cron, '2026-01-01T00:00:00Z', 60);
    expect(all).toHaveLength(60);
    expect(all[0]).toBe('2026-01-01T03:30:00.000Z');
    expect(all[59]).toBe('2085-01-01T03:30:00.000Z');
  });

  it('stops at the last year Quartz documents (2199)', () => {
    expect(parseCron('0 0 0 1 1 ?').next(new Date('2199-06-01T00:00:00Z'))).toBeUndefined();
    expect(parseCron('0 0 0 1 1 ? 2199').next(new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2199-01-01T00:00:00.000Z',
    );
  });

  it('computes sparse schedules without scanning every second', () => {
    // Each of these would take minutes if next() walked second by second; vitest's 5 s timeout
    // catches a regression, without asserting on timing.
    expect(
      fires(parseCron('0 0 0 29 2 ?', { timeZone: 'Pacific/Auckland' }), '2026-01-01T00:00:00Z', 40),
    ).toHaveLength(40);
    expect(fires(parseCron('59 59 23 L-30 * ?'), '2026-01-01T00:00:00Z', 200)).toHaveLength(200);
    expect(
      fires(parseCron('0 0 12 31W * ?', { timeZone: 'America/New_York' }), '2026-01-01T00:00:00Z', 300),
    ).toHaveLength(300);
    expect(parseCron('0 0 12 31 2 ?').next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('parseCron: daylight saving in America/New_York (Quartz 2.3.2 behaviour)', () => {
  const zone = { timeZone: 'America/New_York' };
  // Spring forward: 2026-03-08 02:00 EST (07:00Z) becomes 03:00 EDT. Fall back: 2026-11-01 02:00 EDT
  // (06:00Z) becomes 01:00 EST, so 01:00-01:59 happens twice (05:00Z-05:59Z EDT, 06:00Z-06:59Z EST).

  it('does not fire a wall time in the spring-forward gap that day', () => {
    expect(fires(parseCron('0 30 2 * * ?', zone), '2026-03-08T05:00:00Z', 2)).toEqual([
      '2026-03-09T06:30:00.000Z', // 02:30 EDT on the 9th; 02:30 on the 8th does not exist
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('keeps interval jobs going after the gap, at the first matching wall time', () => {
    expect(fires(parseCron('0 0/20 * * * ?', zone), '2026-03-08T06:00:00Z', 4)).toEqual([
      '2026-03-08T06:20:00.000Z', // 01:20 EST
      '2026-03-08T06:40:00.000Z', // 01:40 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-08T07:20:00.000Z',
    ]);
  });

  it('fires a fixed time in the repeated hour once, at its second (standard-time) occurrence', () => {
    expect(fires(parseCron('0 30 1 * * ?', zone), '2026-11-01T04:00:00Z', 2)).toEqual([
      '2026-11-01T06:30:00.000Z', // 01:30 EST; 01:30 EDT (05:30Z) does not fire
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('skips the first pass through the repeated hour for interval jobs, as Quartz does', () => {
    expect(fires(parseCron('0 0/20 * * * ?', zone), '2026-11-01T04:00:00Z', 5)).toEqual([
      '2026-11-01T04:20:00.000Z', // 00:20 EDT
      '2026-11-01T04:40:00.000Z', // 00:40 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T06:20:00.000Z',
      '2026-11-01T06:40:00.000Z',
    ]);
    // Searching from inside the first 01:xx hour continues in the second one.
    expect(parseCron('0 0/20 * * * ?', zone).next(new Date('2026-11-01T05:10:00Z'))?.toISOString()).toBe(
      '2026-11-01T06:20:00.000Z',
    );
  });
});

describe('parseCron: invalid expressions name the field', () => {
  it.each([
    ['', 'expression', '6 or 7 fields'],
    ['* * * * *', 'expression', '6 or 7 fields'],
    ['0 0 12 * * ? 2026 extra', 'expression', 'got 8'],
    ['60 * * * * ?', 'seconds', '0-59'],
    ['0 1-61 * * * ?', 'minutes', '0-59'],
    ['0 0/0 * * * ?', 'minutes', 'step'],
    ['0 0 25 * * ?', 'hours', '0-23'],
    ['0 0 12 32 * ?', 'dayOfMonth', '1-31'],
    ['0 0 12 L-31 * ?', 'dayOfMonth', '0-30'],
    ['0 0 12 1W,15W * ?', 'dayOfMonth', 'alone'],
    ['0 0 12 5X * ?', 'dayOfMonth', "'5X'"],
    ['0 0 12 ? 13 *', 'month', '1-12 or JAN-DEC'],
    ['0 0 12 ? FOO *', 'month', "'FOO'"],
    ['0 0 12 ? JAN/2 *', 'month', 'step'],
    ['0 0 12 ? * 8', 'dayOfWeek', '1-7'],
    ['0 0 12 ? * 0', 'dayOfWeek', 'SUN-SAT'],
    ['0 0 12 ? * MON-FOO', 'dayOfWeek', "'FOO'"],
    ['0 0 12 ? * MON#6', 'dayOfWeek', '1-5'],
    ['0 0 12 ? * 2#1,3#2', 'dayOfWeek', 'alone'],
    ['0 0 12 ? * 6L,2', 'dayOfWeek', 'alone'],
    ['0 0 12 1 * ? 1969', 'year', '1970-2199'],
    ['0 0 12 1 * ? 2030-2027', 'year', 'wrap'],
    ['? 0 12 1 * ?', 'seconds', "'?'"],
    ['0 0 12 * * MON', 'dayOfMonth', "'?'"],
    ['0 0 12 ? * ?', 'dayOfWeek', "'?'"],
    ['bad cron', 'expression', '6 or 7 fields'],
  ] as const)('%j is rejected in field %s', (expression, field, hint) => {
    const error = errorOf(() => parseCron(expression));
    expect(error.field).toBe(field);
    expect(error.expression).toBe(expression);
    expect(error.name).toBe('CronExpressionError');
    expect(error.message).toContain(hint);
  });

  it('names the bad token and the accepted values', () => {
    const error = errorOf(() => parseCron('0 0 25 * * ?'));
    expect(error.message).toContain("'25'");
    expect(error.message).toMatch(/hours/);
    expect(error.message).toContain('0-23');
  });
});

describe('time zones', () => {
  it.each([
    ['Asia/Shanghai', 'Asia/Shanghai'],
    ['europe/berlin', 'Europe/Berlin'],
    ['UTC', 'UTC'],
    ['GMT', 'GMT'],
    ['GMT+08:00', 'GMT+08:00'],
    ['GMT+8', 'GMT+08:00'],
    ['GMT-5', 'GMT-05:00'],
    ['GMT+0530', 'GMT+05:30'],
  ])('parseTimeZone(%j) is %j', (input, normalised) => {
    expect(parseTimeZone(input)).toBe(normalised);
  });

  it.each(['Mars/Olympus_Mons', '', 'GMT+25', 'GMT+08:60', 'GMT+', '+08:00'])('rejects %j', (input) => {
    const error = errorOf(() => parseTimeZone(input));
    expect(error.field).toBe('timeZone');
    expect(error.message).toContain('IANA');
    expect(error.message).toContain('GMT+08:00');
  });

  it('evaluates fields in the zone: GMT+08:00 and Asia/Shanghai agree', () => {
    const fixed = parseCron('0 30 9 ? * MON-FRI', { timeZone: 'GMT+08:00' });
    const iana = parseCron('0 30 9 ? * MON-FRI', { timeZone: 'Asia/Shanghai' });
    expect(fixed.timeZone).toBe('GMT+08:00');
    expect(fires(fixed, '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T01:30:00.000Z',
      '2026-01-02T01:30:00.000Z',
      '2026-01-05T01:30:00.000Z',
    ]);
    expect(fires(iana, '2026-01-01T00:00:00Z', 3)).toEqual(fires(fixed, '2026-01-01T00:00:00Z', 3));
  });

  it('reads negative offsets: GMT-5 is 5 hours behind UTC', () => {
    expect(
      parseCron('0 0 0 * * ?', { timeZone: 'GMT-5' }).next(new Date('2026-01-01T00:00:00Z'))?.toISOString(),
    ).toBe('2026-01-01T05:00:00.000Z');
  });

  it('rejects an unknown zone in parseCron with field timeZone', () => {
    const error = errorOf(() => parseCron('0 0 12 * * ?', { timeZone: 'Asia/Atlantis' }));
    expect(error.field).toBe('timeZone');
    expect(error.expression).toBe('Asia/Atlantis');
  });
});

describe('parseCronInProcessZone: the process zone (TZ), as the kernel uses for a job without timeZone', () => {
  /** Runs `check` with `process.env.TZ` set to `zone`, then restores it. */
  function inZone(zone: string, check: () => void): void {
    const saved = process.env.TZ;
    process.env.TZ = zone;
    try {
      check();
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  }

  it.each([
    ['America/New_York', '0 0/20 * * * ?', '2026-11-01T04:00:00Z', 8],
    ['America/New_York', '0 30 2 * * ?', '2026-03-07T05:00:00Z', 3],
    ['America/New_York', '0 30 1 * * ?', '2026-10-31T04:00:00Z', 3],
    ['Australia/Lord_Howe', '0 15 2 * * ?', '2026-04-03T00:00:00Z', 3],
    ['Asia/Kolkata', '0 30 9 ? * MON-FRI', '2026-01-01T00:00:00Z', 4],
    ['Asia/Kolkata', '0 0 12 * * ?', '1890-01-01T00:00:00Z', 2],
    ['Europe/Amsterdam', '0 0 0 L * ?', '1930-01-01T00:00:00Z', 3],
  ])('in TZ=%s, %s fires as in that named zone', (zone, expression, fromIso, count) => {
    inZone(zone, () => {
      expect(fires(parseCronInProcessZone(expression), fromIso, count)).toEqual(
        fires(parseCron(expression, { timeZone: zone }), fromIso, count),
      );
    });
  });

  it('follows a change of TZ, and is not the UTC parse', () => {
    const cron = parseCronInProcessZone('0 0 9 * * ?');
    expect(cron).not.toBe(parseCron('0 0 9 * * ?'));
    expect(cron.timeZone).toBeUndefined();
    inZone('Asia/Shanghai', () => {
      expect(cron.next(new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    });
    inZone('America/New_York', () => {
      expect(cron.next(new Date('2026-01-02T00:00:00Z'))?.toISOString()).toBe('2026-01-02T14:00:00.000Z');
    });
  });
});

describe('parseCron: shared parses', () => {
  it('hands out one parse per expression and zone, and a fresh Date per answer', () => {
    const first = parseCron('0/7 * * * * ?', { timeZone: 'Asia/Shanghai' });
    expect(parseCron('0/7 * * * * ?', { timeZone: 'Asia/Shanghai' })).toBe(first);
    expect(parseCron('0/7 * * * * ?')).not.toBe(first);
    expect(parseCron('0/7 * * * * ?', { timeZone: 'Europe/Paris' })).not.toBe(first);

    const after = new Date('2026-03-01T10:00:00.250Z');
    const answer = first.next(after);
    expect(answer?.toISOString()).toBe('2026-03-01T10:00:07.000Z');
    answer?.setTime(0);
    expect(first.next(new Date('2026-03-01T10:00:00.900Z'))?.toISOString()).toBe('2026-03-01T10:00:07.000Z');
    expect(first.next(new Date('2026-03-01T10:00:07.000Z'))?.toISOString()).toBe('2026-03-01T10:00:14.000Z');
    expect(first.next(after)?.toISOString()).toBe('2026-03-01T10:00:07.000Z');
  });

  it('answers seconds before 1970 from their own search, not from an earlier answer', () => {
    const cron = parseCron('0 0 0 1 1 ? 1970-2199');
    expect(cron.next(new Date('1969-12-31T23:59:59.500Z'))?.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(cron.next(new Date('1970-01-01T00:00:00.000Z'))?.toISOString()).toBe('1971-01-01T00:00:00.000Z');
  });

  it('keeps rejecting an invalid expression every time it is parsed', () => {
    expect(() => parseCron('0 0 25 * * ?')).toThrow(CronExpressionError);
    expect(() => parseCron('0 0 25 * * ?')).toThrow(CronExpressionError);
  });

  it('evicts the least recently parsed expression beyond 1,024, so a long-lived process stays bounded', () => {
    const kept = parseCron('0 0 5 * * ?');
    const evicted = parseCron('0 0 6 * * ?');
    for (let second = 0; second < 60; second++) {
      for (let minute = 0; minute < 18; minute++) parseCron(`${second} ${minute} 1 * * ?`);
      expect(parseCron('0 0 5 * * ?')).toBe(kept);
    }
    expect(parseCron('0 0 6 * * ?')).not.toBe(evicted);
  });
});
