/**
 * `elasticjob history` on a SQLite history file: table and JSON output, paging, status trace,
 * statistics, usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHistoryStore, runHistoryCli } from '../src/index.js';
import { sqliteBackend } from './support/backends.js';
import { failed, started, status, succeeded, T0 } from './support/events.js';

const backend = sqliteBackend();
let url = '';
const taskId = 'orders@-@0,1@-@READY@-@10.0.0.1@-@1001';

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runHistoryCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    nowMs: () => T0 + 3_600_000,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  await backend.setup();
  url = await backend.newDatabaseUrl();
  const store = await openHistoryStore(url);
  const a = started('orders', 0, T0, { taskId });
  const b = started('orders', 1, T0 + 1000, { taskId });
  const c = started('billing', 0, T0 + 2000);
  await store.writeEvents([
    a,
    succeeded(a, 2),
    b,
    failed(b, 4, 'card declined'),
    c,
    status('orders', taskId, 'TASK_STAGING', T0),
    status('orders', taskId, 'TASK_RUNNING', T0 + 1),
    status('orders', taskId, 'TASK_ERROR', T0 + 5000),
  ]);
  await store.close();
});
afterAll(() => backend.teardown());

describe('elasticjob history', () => {
  it('lists executions as a table, newest first, with filters', async () => {
    const { code, stdout } = await run(['executions', '--db', url, '--job', 'orders']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^START\s+JOB\s+ITEM\s+SOURCE\s+RESULT\s+SECONDS\s+IP\s+HOST\s+TASK\s+FAILURE$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /^2026-03-01T08:00:01.000Z\s+orders\s+1\s+NORMAL_TRIGGER\s+failure\s+4.000\s+10.0.0.1/,
    );
    expect(lines[1]).toContain('Error: card declined');
    expect(lines[2]).toMatch(/orders\s+0\s+NORMAL_TRIGGER\s+success\s+2.000/);
    const failedOnly = await run(['executions', '--failed', '--failure', 'DECLINED'], {
      ELASTICJOB_HISTORY: url,
    });
    expect(failedOnly.stdout.trimEnd().split('\n')).toHaveLength(2);
    const running = await run(['executions', '--db', url, '--running']);
    expect(running.stdout).toMatch(/billing\s+0\s+NORMAL_TRIGGER\s+running/);
  });

  it('prints JSON pages with a cursor that reads the next page', async () => {
    const first = await run(['executions', '--db', url, '--json', '--limit', '2']);
    const page = JSON.parse(first.stdout) as { items: Array<{ jobName: string }>; nextCursor: string };
    expect(page.items.map((e) => e.jobName)).toEqual(['billing', 'orders']);
    const second = await run([
      'executions',
      '--db',
      url,
      '--json',
      '--limit',
      '2',
      '--cursor',
      page.nextCursor,
    ]);
    expect(JSON.parse(second.stdout)).toEqual({
      items: [expect.objectContaining({ shardingItem: 0, success: true })],
    });
    const table = await run(['executions', '--db', url, '--limit', '1']);
    expect(table.stdout).toMatch(/next page: --cursor \S+\n$/);
  });

  it("shows a task's status trace in order and per-job statistics", async () => {
    const trace = await run(['status', taskId, '--db', url]);
    expect(trace.code).toBe(0);
    expect(trace.stdout.match(/TASK_\w+/g)).toEqual(['TASK_STAGING', 'TASK_RUNNING', 'TASK_ERROR']);
    const stats = await run(['stats', '--db', url, '--json', '--since', '2h']);
    expect(JSON.parse(stats.stdout)).toEqual([
      expect.objectContaining({ jobName: 'billing', runs: 1, running: 1, p50DurationSeconds: null }),
      expect.objectContaining({
        jobName: 'orders',
        bucketStartMs: T0,
        runs: 2,
        failures: 1,
        p50DurationSeconds: 3,
      }),
    ]);
    const table = await run(['stats', '--db', url, '--by', 'day', '--since', '2026-03-01T00:00:00Z']);
    expect(table.stdout).toMatch(/orders\s+2026-03-01T00:00:00.000Z\s+2\s+1\s+0\s+3.000\s+3.900/);
  });

  it('reports bad usage with exit code 2 and names what is wrong', async () => {
    expect(await run(['executions'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--db <url>'),
    });
    expect(await run(['executions', '--db', 'sqlite:/nonexistent/h.db'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("no history database file '/nonexistent/h.db'"),
    });
    expect(await run(['executions', '--db', 'mysql://x'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown scheme 'mysql'"),
    });
    expect(await run(['executions', '--db', url, '--since', 'yesterday'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--since 'yesterday' is not a time"),
    });
    for (const since of ['99999999999999999999', '8640000000000001', '9999999999999999h', '100000000d']) {
      expect(await run(['executions', '--db', url, '--since', since])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(`--since '${since}' is out of range: give a time from 1970-01-01`),
      });
    }
    expect(await run(['executions', '--db', url, '--since', '1h', '--until', '2h'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--since '1h' is after --until '2h'"),
    });
    expect((await run(['executions', '--db', url, '--source', 'CRON'])).code).toBe(2);
    expect(await run(['status', '--db', url])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('taskId or --job'),
    });
  });
});
