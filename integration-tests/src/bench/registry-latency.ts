/**
 * `npm run bench:registry`: latency of each registry operation the kernel uses, on the memory
 * registry and on real ZooKeeper, etcd and Redis servers started on loopback (like the test servers).
 * Prints one markdown table (median and p99 per operation and backend) and writes
 * `bench-results/registry-latency.json`.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  type RegistryCenterConfiguration,
  type RegistryEvent,
} from '@elasticjob-ts/core';
import { MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { startEtcdServer, startRedisServer, startZookeeperServer } from '@elasticjob-ts/test-support';
import { positiveNumberEnv } from './bench-env.js';
import { formatMs, type LatencySummary, markdownTable, summarize } from './stats.js';

/** Timed calls per operation (`BENCH_ITERATIONS`, default 300); a bad value fails before any server starts. */
const ITERATIONS = positiveNumberEnv(process.env, 'BENCH_ITERATIONS', 300);
const WARMUP = 20;

type Operation =
  | 'get'
  | 'getDirectly'
  | 'persist'
  | 'persistEphemeral'
  | 'transaction (10 ops)'
  | 'latch acquire+release'
  | 'watch event delivery';
const OPERATIONS: Operation[] = [
  'get',
  'getDirectly',
  'persist',
  'persistEphemeral',
  'transaction (10 ops)',
  'latch acquire+release',
  'watch event delivery',
];

async function time(iterations: number, body: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await body(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await body(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

async function benchBackend(
  writer: CoordinatorRegistryCenter,
  watcher: CoordinatorRegistryCenter,
): Promise<Record<Operation, LatencySummary>> {
  const root = `/bench-${Date.now()}`;
  await writer.persist(`${root}/value`, 'x');
  const result = {} as Record<Operation, LatencySummary>;
  result.get = summarize(await time(ITERATIONS, () => writer.get(`${root}/value`).then(() => {})));
  result.getDirectly = summarize(
    await time(ITERATIONS, () => writer.getDirectly(`${root}/value`).then(() => {})),
  );
  result.persist = summarize(await time(ITERATIONS, (i) => writer.persist(`${root}/value`, String(i))));
  result.persistEphemeral = summarize(
    await time(ITERATIONS, (i) => writer.persistEphemeral(`${root}/ephemeral/${i < 0 ? `w${-i}` : i}`, 'e')),
  );
  await writer.persist(`${root}/txn`, '');
  let round = 0;
  result['transaction (10 ops)'] = summarize(
    await time(ITERATIONS, async () => {
      const base = `${root}/txn/${round++}`;
      await writer.executeInTransaction([
        { type: 'create', key: base, value: '' },
        ...Array.from({ length: 9 }, (_, k) => ({
          type: 'create' as const,
          key: `${base}/${k}`,
          value: 'v',
        })),
      ]);
    }),
  );
  result['latch acquire+release'] = summarize(
    await time(Math.min(ITERATIONS, 200), () => writer.executeInLeader(`${root}/latch`, () => undefined)),
  );
  let pending: { key: string; resolve: () => void } | undefined;
  const unwatch = await watcher.watch(`${root}/watched`, (event: RegistryEvent) => {
    if (pending && event.key === pending.key && event.type !== 'DELETED') pending.resolve();
  });
  result['watch event delivery'] = summarize(
    await time(ITERATIONS, async (i) => {
      const key = `${root}/watched/${i < 0 ? `w${-i}` : i}`;
      const delivered = new Promise<void>((resolve) => {
        pending = { key, resolve };
      });
      await writer.persist(key, 'v');
      await delivered;
    }),
  );
  await unwatch();
  await writer.remove(root);
  return result;
}

async function withClients(
  configuration: RegistryCenterConfiguration,
  body: (
    writer: CoordinatorRegistryCenter,
    watcher: CoordinatorRegistryCenter,
  ) => Promise<Record<Operation, LatencySummary>>,
): Promise<Record<Operation, LatencySummary>> {
  const writer = await createRegistryCenter(configuration);
  const watcher = await createRegistryCenter(configuration);
  try {
    return await body(writer, watcher);
  } finally {
    await writer.close();
    await watcher.close();
  }
}

async function main(): Promise<void> {
  const results: Record<string, Record<Operation, LatencySummary>> = {};
  const server = new MemoryRegistryServer();
  results.memory = await withClients({ type: 'memory', server, namespace: 'bench' }, benchBackend);
  const zookeeper = await startZookeeperServer();
  try {
    results.zookeeper = await withClients(
      {
        type: 'zookeeper',
        serverLists: zookeeper.connectString,
        namespace: 'bench',
        sessionTimeoutMs: 10_000,
      },
      benchBackend,
    );
  } finally {
    await zookeeper.stop();
  }
  const etcd = await startEtcdServer();
  try {
    results.etcd = await withClients(
      { type: 'etcd', endpoints: etcd.endpoints, namespace: 'bench', sessionTimeoutMs: 10_000 },
      benchBackend,
    );
  } finally {
    await etcd.stop();
  }
  const redis = await startRedisServer();
  try {
    results.redis = await withClients(
      { type: 'redis', url: redis.url, namespace: 'bench', sessionTimeoutMs: 10_000 },
      benchBackend,
    );
  } finally {
    await redis.stop();
  }
  const backends = Object.keys(results);
  const header = ['operation', ...backends.flatMap((b) => [`${b} median ms`, `${b} p99 ms`])];
  const rows = OPERATIONS.map((operation) => [
    operation,
    ...backends.flatMap((backend) => {
      const summary = results[backend]?.[operation];
      return summary ? [formatMs(summary.medianMs), formatMs(summary.p99Ms)] : ['n/a', 'n/a'];
    }),
  ]);
  console.log(
    `\nRegistry operation latency, loopback, ${ITERATIONS} iterations each (latch: ${Math.min(ITERATIONS, 200)})\n`,
  );
  console.log(markdownTable(header, rows));
  await mkdir('bench-results', { recursive: true });
  await writeFile('bench-results/registry-latency.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwritten: bench-results/registry-latency.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
