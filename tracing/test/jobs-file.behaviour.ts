/**
 * A jobs file with `tracing:` and `monitoring:` sections, run by core's `runJobsFromFile` on the
 * memory registry: core imports this package, every execution lands in the history database
 * (read back through the query API after shutdown wrote the queue; a run with a failing item ends
 * TASK_ERROR), `/metrics` counts the executions while the jobs run, the log says where both are
 * without the password, and a monitoring port in use starts nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type Logger, runJobsFromFile } from '@elasticjob-ts/core';
import type { TracingPackage } from '@elasticjob-ts/core/internal';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tracingPackage from '../src/index.js';
import { METRIC_NAMES, openHistoryStore } from '../src/index.js';
import type { BackendFixture } from './support/backends.js';
import { waitFor } from './support/cluster.js';

// Compile-time check: this package offers what core's jobs-file support imports from it.
const offered: TracingPackage = tracingPackage;

/** A logger that keeps the `info` lines (message and context) and drops the rest. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: (first: object | string, message?: string) => {
      lines.push(typeof first === 'string' ? first : `${message ?? ''} ${JSON.stringify(first)}`);
    },
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  return logger;
}

/** The value of `elasticjob_executions_total{job=...,result=...}` summed over sources. */
function executionsTotal(metricsText: string, job: string, result: 'success' | 'failure'): number {
  return metricsText
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(`${METRIC_NAMES.executions}{`) &&
        line.includes(`job="${job}"`) &&
        line.includes(`result="${result}"`),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

export function describeJobsFileTracing(fixture: BackendFixture): void {
  describe(`a jobs file with tracing and monitoring on ${fixture.name}`, () => {
    let dir: string;
    beforeAll(async () => {
      await fixture.setup();
      dir = await mkdtemp(join(tmpdir(), 'elasticjob-jobs-file-tracing-'));
      // Item 0 succeeds, item 1 fails: both results are counted and traced.
      await writeFile(
        join(dir, 'ticker.mjs'),
        'export default { execute(context) { if (context.shardingItem === 1) throw new Error("item 1 fails"); } };\n',
      );
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
      await fixture.teardown();
    });

    /** The database URL as the file writes it: a SQLite file relative to the jobs file. */
    const fileUrl = (url: string): { url: string; fileDir: string } => {
      if (url.startsWith('sqlite:')) {
        const path = url.slice('sqlite:'.length);
        return { url: `sqlite:./${basename(path)}`, fileDir: dirname(path) };
      }
      // A password (from the environment) that the server's trust authentication ignores, to see
      // it masked in the log.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an environment reference of the jobs file
      return { url: url.replace(/^(postgres(?:ql)?:\/\/[^:@/]+)@/, '$1:${HISTORY_PASSWORD}@'), fileDir: dir };
    };

    it('traces every execution, serves its metrics, logs where both are, and writes the queue on shutdown', async () => {
      const databaseUrl = await fixture.newDatabaseUrl();
      const { url, fileDir } = fileUrl(databaseUrl);
      const file = join(fileDir, 'jobs.yaml');
      await writeFile(
        file,
        `registry:
  type: memory
  namespace: jobs-file-tracing
jobs:
  ticker:
    handler: ${join(dir, 'ticker.mjs')}
    cron: "* * * * * ?"
    shardingTotalCount: 2
tracing:
  url: ${url}
  retention: { maxRows: 100000 }
  writer: { flushIntervalMs: 20 }
monitoring:
  port: 0
`,
      );
      const lines: string[] = [];
      const running = await runJobsFromFile(file, {
        env: { HISTORY_PASSWORD: 'not-checked' },
        logger: recordingLogger(lines),
        registryOverrides: { server: new MemoryRegistryServer() },
      });
      let seen = { success: 0, failure: 0 };
      try {
        expect(running.monitoringUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        // The SQLite file relative to the jobs file, or the PostgreSQL URL with its password masked.
        expect(running.historyUrl).toBe(
          databaseUrl.startsWith('sqlite:')
            ? databaseUrl
            : databaseUrl.replace(/^(postgres(?:ql)?:\/\/[^:@/]+)(:[^@]*)?@/, '$1:***@'),
        );
        const historyLines = lines.filter((line) => line.startsWith('event tracing: job history in'));
        const monitoringLines = lines.filter((line) =>
          line.startsWith(`monitoring: metrics at ${running.monitoringUrl}/metrics`),
        );
        expect([historyLines.length, monitoringLines.length]).toEqual([1, 1]);
        expect(historyLines[0]).toContain(running.historyUrl);
        expect(lines.join('\n')).not.toContain('not-checked');

        await waitFor(async () => {
          const text = await (await fetch(`${running.monitoringUrl}/metrics`)).text();
          seen = {
            success: executionsTotal(text, 'ticker', 'success'),
            failure: executionsTotal(text, 'ticker', 'failure'),
          };
          expect(seen.success).toBeGreaterThanOrEqual(2);
          expect(seen.failure).toBeGreaterThanOrEqual(2);
        });
        expect((await fetch(`${running.monitoringUrl}/healthz`)).status).toBe(200);
        expect((await fetch(`${running.monitoringUrl}/readyz`)).status).toBe(200);
      } finally {
        await running.shutdown();
      }
      await expect(fetch(`${running.monitoringUrl}/healthz`)).rejects.toThrow();

      // Shutdown wrote the queue: at least every execution the metrics counted is in the database.
      const store = await openHistoryStore(databaseUrl);
      try {
        const executions = (await store.queries.findExecutions({ jobName: 'ticker' }, { limit: 1000 })).items;
        const succeeded = executions.filter((row) => row.success === true);
        const failed = executions.filter((row) => row.completeTimeMs !== undefined && row.success === false);
        expect(succeeded.length).toBeGreaterThanOrEqual(seen.success);
        expect(failed.length).toBeGreaterThanOrEqual(seen.failure);
        expect(new Set(succeeded.map((row) => row.shardingItem))).toEqual(new Set([0]));
        expect(
          failed.every((row) => row.shardingItem === 1 && row.failureCause?.includes('item 1 fails')),
        ).toBe(true);
        const traces = (await store.queries.findStatusTraces({ jobName: 'ticker' }, { limit: 1000 })).items;
        expect(new Set(traces.map((trace) => trace.state))).toEqual(
          new Set(['TASK_STAGING', 'TASK_RUNNING', 'TASK_ERROR']),
        );
      } finally {
        await store.close();
      }
      expect(Object.keys(offered)).toContain('startEventTracing');
    });

    it('starts no job when the monitoring port is in use', async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as { port: number }).port;
      const server = new MemoryRegistryServer();
      const file = join(dir, 'port-in-use.yaml');
      await writeFile(
        file,
        `registry: { type: memory, namespace: port-in-use }
jobs:
  ticker: { handler: ${join(dir, 'ticker.mjs')}, cron: "* * * * * ?", shardingTotalCount: 1 }
tracing: { url: ${await fixture.newDatabaseUrl()} }
monitoring: { port: ${port} }
`,
      );
      try {
        await expect(
          runJobsFromFile(file, { registryOverrides: { server }, logger: recordingLogger([]) }),
        ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
      const observer = new MemoryRegistryCenter({ server, namespace: 'port-in-use' });
      await observer.start();
      try {
        expect(await observer.getChildrenKeys('/')).toEqual([]);
      } finally {
        await observer.close();
      }
    });
  });
}
