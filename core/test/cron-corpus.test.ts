/**
 * Every line of the Quartz corpus in `fixtures/` (fire times computed by Quartz 2.3.2 itself; see
 * `fixtures/README.md`) is one test: `parseCron` must give the same next fire times, or reject the
 * expressions Quartz rejects.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CronExpressionError, parseCron } from '../src/cron/index.js';

const CORPUS_PATH = fileURLToPath(new URL('./fixtures/quartz-cron-corpus.tsv', import.meta.url));

interface CorpusCase {
  readonly line: number;
  readonly expression: string;
  readonly timeZone: string;
  readonly startMs: number;
  readonly count: number;
  /** `'ERR …'` (Quartz's message) when Quartz rejects the expression. */
  readonly expected: readonly number[] | string;
}

function readCorpus(): CorpusCase[] {
  const lines = readFileSync(CORPUS_PATH, 'utf8').split('\n');
  const cases: CorpusCase[] = [];
  lines.forEach((text, index) => {
    if (text === '' || text.startsWith('#')) return;
    const [expression = '', timeZone = '', start = '', count = '', ...fires] = text.split('\t');
    const first = fires[0] ?? '';
    cases.push({
      line: index + 1,
      expression,
      timeZone,
      startMs: Number(start),
      count: Number(count),
      expected: first.startsWith('ERR') ? first : fires.filter((fire) => fire !== '').map(Number),
    });
  });
  return cases;
}

const corpus = readCorpus();
const valid = corpus.filter((c) => typeof c.expected !== 'string');
const invalid = corpus.filter((c) => typeof c.expected === 'string');

describe('Quartz 2.3.2 corpus', () => {
  it('has both valid and invalid lines', () => {
    expect(valid.length).toBeGreaterThan(300);
    expect(invalid.length).toBeGreaterThan(5);
  });

  it.each(valid)('line $line: "$expression" in $timeZone from $startMs', (c) => {
    const cron = parseCron(c.expression, { timeZone: c.timeZone });
    const fires: string[] = [];
    let after = new Date(c.startMs);
    for (let i = 0; i < c.count; i++) {
      const next = cron.next(after);
      if (next === undefined) break;
      fires.push(next.toISOString());
      after = next;
    }
    expect(fires).toEqual((c.expected as number[]).map((ms) => new Date(ms).toISOString()));
  });

  it.each(invalid)('line $line: "$expression" is rejected ($expected)', (c) => {
    expect(() => parseCron(c.expression, { timeZone: c.timeZone })).toThrow(CronExpressionError);
  });
});
