/// <reference lib="dom" />
/**
 * `npm run bench -w @elasticjob-ts/console`: the console with 1,000 jobs on a loopback ZooKeeper
 * and etcd (started like the test servers). Measures, per backend:
 *
 * - the baseline in the same run: one full job listing read node by node from the registry with
 *   core's `JobStatisticsAPI.getAllJobsBriefInfo` (what ElasticJob-UI does for every page view);
 * - console start (one watch of the namespace, initial snapshot mirrored);
 * - `GET /api/v1/jobs` (served from the mirror);
 * - first page load in headless Chromium until all 1,000 jobs are listed;
 * - SSE update latency: a registry write (a job's server disabled/enabled) until the event for that
 *   job arrives at an SSE client, and until the browser's row shows the new status.
 *
 * The registry layout is written directly (config, one server, one live instance, two items per
 * job), so the figures are the console's, not the job instances'. `BENCH_BACKENDS=zookeeper,etcd`,
 * `BENCH_JOBS=1000`, `BENCH_CHANGES=30`.
 *
 * @module
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  type CoordinatorRegistryCenter,
  createJobInstance,
  createJobOperationAPIs,
  createRegistryCenter,
  resolveJobConfiguration,
  toJobConfigurationYaml,
  toJobInstanceYaml,
} from '@elasticjob-ts/core';
import { startEtcdServer, startZookeeperServer } from '@elasticjob-ts/test-support';
import { chromium } from 'playwright-core';
import { startConsole } from '../src/index.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 30);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'zookeeper,etcd').split(',') as ('zookeeper' | 'etcd')[];
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const jobName = (index: number) => `job-${String(index).padStart(4, '0')}`;

async function populate(writer: CoordinatorRegistryCenter): Promise<void> {
  const batch = 50;
  for (let start = 0; start < JOBS; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, JOBS - start) }, async (_, offset) => {
        const name = jobName(start + offset);
        const ip = `10.0.${Math.floor((start + offset) / 250)}.${(start + offset) % 250}`;
        const instanceId = `${ip}@-@${1000 + start + offset}`;
        await writer.persist(
          `/${name}/config`,
          toJobConfigurationYaml(
            resolveJobConfiguration({
              jobName: name,
              cron: '0 0/5 * * * ?',
              shardingTotalCount: 2,
              description: `job ${name}`,
            }),
          ),
        );
        await writer.persist(`/${name}/servers/${ip}`, 'ENABLED');
        await writer.persistEphemeral(
          `/${name}/instances/${instanceId}`,
          toJobInstanceYaml(createJobInstance(instanceId, ip)),
        );
        await writer.persist(`/${name}/sharding/0/instance`, instanceId);
        await writer.persist(`/${name}/sharding/1/instance`, instanceId);
        await writer.persist(`/${name}/leader/election/instance`, instanceId);
      }),
    );
  }
}

const progress = (text: string) => process.stderr.write(`${new Date().toISOString()} ${text}\n`);

async function benchBackend(name: 'zookeeper' | 'etcd'): Promise<string[]> {
  progress(`${name}: starting the server`);
  const server = name === 'zookeeper' ? await startZookeeperServer() : await startEtcdServer();
  const namespace = `bench-console-${process.pid}`;
  const client = () =>
    'connectString' in server
      ? createRegistryCenter({ type: 'zookeeper', serverLists: server.connectString, namespace })
      : createRegistryCenter({ type: 'etcd', endpoints: server.endpoints, namespace });
  const writer = await client();
  const reader = await client();
  progress(`${name}: connected; writing ${JOBS} jobs`);
  const rows: string[] = [];
  try {
    let started = performance.now();
    await populate(writer);
    progress(`${name}: ${JOBS} jobs written in ${ms(performance.now() - started)}`);

    const direct = createJobOperationAPIs(reader).jobStatisticsAPI;
    const baseline: number[] = [];
    for (let run = 0; run < 3; run++) {
      started = performance.now();
      const jobs = await direct.getAllJobsBriefInfo();
      baseline.push(performance.now() - started);
      if (jobs.length !== JOBS) throw new Error(`baseline listed ${jobs.length} jobs`);
    }

    progress(`${name}: baseline done`);
    started = performance.now();
    const running = await startConsole({ registries: [{ client: reader, type: name }], port: 0 });
    const consoleStartMs = performance.now() - started;
    try {
      const api: number[] = [];
      for (let run = 0; run < 5; run++) {
        started = performance.now();
        const jobs = (await (await fetch(new URL('api/v1/jobs', running.url))).json()) as unknown[];
        api.push(performance.now() - started);
        if (jobs.length !== JOBS) throw new Error(`API listed ${jobs.length} jobs`);
      }

      progress(`${name}: console up; loading pages`);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
      const pageLoads: number[] = [];
      const browserLatency: number[] = [];
      const sseLatency: number[] = [];
      try {
        for (let run = 0; run < 3; run++) {
          const context = await browser.newContext();
          const page = await context.newPage();
          started = performance.now();
          await page.goto(running.url);
          await page.waitForFunction(
            (count) => document.querySelector('.counts strong')?.textContent === String(count),
            JOBS,
          );
          await page.locator(`tr[data-job="${jobName(0)}"]`).waitFor();
          pageLoads.push(performance.now() - started);
          if (run < 2) await context.close();
        }
        const page = browser.contexts()[0]!.pages()[0]!;
        progress(`${name}: pages loaded; measuring changes`);

        const controller = new AbortController();
        const response = await fetch(new URL('api/v1/events', running.url), { signal: controller.signal });
        const events = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        /** Reads the stream until a line satisfies `match`; consumes everything read. */
        const waitFor = async (match: (line: string) => boolean) => {
          for (;;) {
            const lines = buffer.split('\n');
            buffer = lines.pop() ?? '';
            if (lines.some(match)) return;
            const { value, done } = await events.read();
            if (done) throw new Error('event stream ended');
            buffer += value;
          }
        };
        await waitFor((line) => line === 'event: ready');
        for (let change = 0; change < CHANGES; change++) {
          // Pairs: disable a job's only server, then enable it again (both change the job's status).
          const index = (Math.floor(change / 2) * 37) % Math.min(JOBS, 500); // rows the page renders
          const job = jobName(index);
          const ip = `10.0.${Math.floor(index / 250)}.${index % 250}`;
          const status = change % 2 === 0 ? 'DISABLED' : 'ENABLED';
          const expected = status === 'DISABLED' ? 'DISABLED' : 'OK';
          buffer = '';
          const browserSeen = page.waitForFunction(
            ([selector, text]) => document.querySelector(selector!)?.textContent === text,
            [`tr[data-job="${job}"] .badge`, expected],
            { polling: 'raf' },
          );
          started = performance.now();
          await writer.update(`/${job}/servers/${ip}`, status);
          await waitFor(
            (line) =>
              line.startsWith(`data: {"jobName":"${job}","summary":{`) &&
              line.includes(`"status":"${expected}"`),
          );
          sseLatency.push(performance.now() - started);
          await browserSeen;
          browserLatency.push(performance.now() - started);
        }
        controller.abort();
      } finally {
        await browser.close();
      }
      const median = (samples: number[]) => ms(percentile(samples, 50));
      rows.push(
        `| ${name} | ${median(baseline)} | ${ms(consoleStartMs)} | ${median(api)} | ${median(pageLoads)} (${pageLoads.map((each) => ms(each)).join(', ')}) | ${ms(percentile(sseLatency, 50))} / ${ms(percentile(sseLatency, 95))} | ${ms(percentile(browserLatency, 50))} / ${ms(percentile(browserLatency, 95))} |`,
      );
    } finally {
      await running.close();
    }
  } finally {
    await reader.close();
    await writer.close();
    await server.stop();
  }
  return rows;
}

const rows: string[] = [];
for (const backend of BACKENDS) rows.push(...(await benchBackend(backend)));
console.log(
  `Console with ${JOBS} jobs (${availableParallelism()} cores, ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version})\n`,
);
console.log(
  '| backend | baseline: full listing read node by node (core JobStatisticsAPI, direct) | console start (watch + snapshot) | GET /api/v1/jobs | first page load, all jobs listed (median; runs) | SSE event after a registry write p50 / p95 | browser row updated p50 / p95 |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
