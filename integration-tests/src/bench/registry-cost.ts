/**
 * Benchmark 2, registry cost per run: registry calls per fire of one job on one instance, counted
 * at the adapter boundary by {@link CountingRegistryCenter} (transaction ops counted apart), with
 * `monitorExecution` on and off, for 1, 8 and 64 items, on each backend. Startup is excluded: the
 * window opens after the job has fired a few times. Beside the adapter calls, the server's own
 * request counter over the same window (ZooKeeper packets, etcd unary gRPC calls) shows the round
 * trips the adapters make underneath (subtree-watch re-reads, transaction expansion), and the
 * watch events the job's cache received.
 *
 * @module
 */
import { createRegistryCenter } from '@elasticjob-ts/core';
import type { Backend } from './backends.js';
import { alignToSecond, BenchProcess, benchBuilds, everySecondJobs, sleep } from './processes.js';
import type { BenchTable } from './stats.js';

/** Options of {@link benchRegistryCost}. */
export interface RegistryCostOptions {
  /** Fires per window. */
  readonly fires: number;
  /** Item counts. @defaultValue [1, 8, 64] */
  readonly itemCounts?: readonly number[];
}

interface Row {
  readonly backend: string;
  /** The build the job ran ({@link benchBuilds}), or `—` for the bare-client probe. */
  readonly build: string;
  /** `on` / `off`, or the probe's description. */
  readonly monitorExecution: boolean | string;
  readonly items: number;
  readonly fires: number;
  readonly callsPerFire: number;
  readonly transactionOpsPerFire: number;
  readonly breakdownPerFire: Record<string, number>;
  readonly serverRequestsPerFire: number;
  readonly watchEventsPerFire: number;
  readonly note: string;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Attribution probe without the kernel: the two transactions of a run (create then delete
 * `sharding/{i}/running` for every item) issued by a bare client, without and then with a subtree
 * watch on the job root, counting the server's requests. It separates what the adapter's
 * transaction costs from what keeping the watched cache current costs.
 */
async function probe(backend: Backend, items: number, fires: number, withWatch: boolean): Promise<Row> {
  const client = await createRegistryCenter(
    backend.configuration(`bench-probe-${items}-${withWatch}-${Date.now()}`, 30_000),
  );
  try {
    for (let item = 0; item < items; item++) await client.persist(`/probe/sharding/${item}/instance`, 'x');
    const unwatch = withWatch ? await client.watch('/probe', () => {}) : undefined;
    const key = (item: number) => `/probe/sharding/${item}/running`;
    const run = async () => {
      await client.executeInTransaction(
        Array.from({ length: items }, (_, item) => ({ type: 'create' as const, key: key(item), value: 'x' })),
      );
      await client.executeInTransaction(
        Array.from({ length: items }, (_, item) => ({ type: 'delete' as const, key: key(item) })),
      );
    };
    await run();
    await sleep(300);
    const before = await backend.counters();
    for (let i = 0; i < fires; i++) {
      await run();
      await sleep(200); // let watch re-reads settle, as between fires
    }
    const after = await backend.counters();
    await unwatch?.();
    return {
      backend: backend.name,
      build: '—',
      monitorExecution: withWatch ? 'probe: 2 txns + subtree watch' : 'probe: 2 txns, no watch',
      items,
      fires,
      callsPerFire: 2,
      transactionOpsPerFire: 2 * items,
      breakdownPerFire: { executeInTransaction: 2 },
      serverRequestsPerFire: round((after.requests - before.requests) / fires),
      watchEventsPerFire: Number.NaN,
      note: 'bare client, no kernel',
    };
  } finally {
    await client.close();
  }
}

/**
 * Runs benchmark 2.
 *
 * @param backends - started backends.
 * @param options - window length and item counts.
 * @returns the table and raw figures.
 */
export async function benchRegistryCost(
  backends: readonly Backend[],
  options: RegistryCostOptions,
): Promise<BenchTable> {
  // Backends run side by side: counts do not depend on timing, and each server counts only its own.
  const builds = benchBuilds();
  const perBackend = await Promise.all(
    backends.map(async (backend) => {
      const rows: Row[] = [];
      for (const monitorExecution of [true, false]) {
        for (const items of options.itemCounts ?? [1, 8, 64]) {
          for (const build of builds) {
            let worker: BenchProcess;
            try {
              worker = await BenchProcess.start(
                {
                  registry: backend.connection,
                  namespace: `bench-cost-${items}-${monitorExecution}-${Date.now()}`,
                  sessionTimeoutMs: 30_000,
                  instanceId: '127.0.0.1@-@cost',
                  jobs: everySecondJobs('cost', items, monitorExecution),
                },
                undefined,
                build,
              );
            } catch (error) {
              // A baseline build may not support this backend (it predates the adapter): its row says so.
              if (build === builds[0]) throw error;
              const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
              rows.push({
                backend: backend.name,
                build: build.label,
                monitorExecution,
                items,
                fires: 0,
                callsPerFire: 0,
                transactionOpsPerFire: 0,
                breakdownPerFire: {},
                serverRequestsPerFire: 0,
                watchEventsPerFire: 0,
                note: `did not fit: ${reason}`,
              });
              continue;
            }
            try {
              await sleep(2000);
              // Window: from 500 ms after a fire (its run is over) to 500 ms after the last fire.
              await alignToSecond(500);
              const before = await backend.counters();
              worker.begin();
              await sleep(options.fires * 1000);
              const measurement = await worker.end();
              const after = await backend.counters();
              const fires = Math.max(1, measurement.fires);
              const breakdown: Record<string, number> = {};
              for (const [method, count] of Object.entries(measurement.counts.calls)) {
                if (count > 0) breakdown[method] = round(count / fires);
              }
              rows.push({
                backend: backend.name,
                build: build.label,
                monitorExecution,
                items,
                fires: measurement.fires,
                callsPerFire: round(measurement.counts.requests / fires),
                transactionOpsPerFire: round(measurement.counts.transactionOps / fires),
                breakdownPerFire: breakdown,
                serverRequestsPerFire: round((after.requests - before.requests) / fires),
                watchEventsPerFire: round(measurement.counts.watchEvents / fires),
                note:
                  measurement.fires === 0
                    ? `the job never ran in the window: see ${worker.logFile.slice(worker.logFile.indexOf('bench-results'))}`
                    : '',
              });
            } finally {
              await worker.stop();
            }
          }
        }
      }
      for (const items of [8, 64]) {
        rows.push(await probe(backend, items, options.fires, false));
        rows.push(await probe(backend, items, options.fires, true));
      }
      return rows;
    }),
  );
  const rows = perBackend.flat();
  return {
    id: 'registryCost',
    title: '2. Registry cost per run (one job, one instance, steady state)',
    caption:
      `Per fire, averaged over ${options.fires} consecutive fires after startup. "adapter calls" = calls of ` +
      '`CoordinatorRegistryCenter` methods counted by a wrapper (a transaction or a latch is one call; ' +
      'ops inside transactions counted apart). "server requests" = the server\'s own counter over the same ' +
      'window (ZooKeeper `zk_packets_received`, etcd unary gRPC calls; session pings / lease keep-alives of a ' +
      '30 s session are at most 1 per 10 s and are not included for etcd).',
    header: [
      'backend',
      'build',
      'monitorExecution',
      'items',
      'fires',
      'adapter calls / fire',
      'txn ops / fire',
      'calls by method / fire',
      'server requests / fire',
      'watch events / fire',
      'note',
    ],
    rows: rows.map((row) => [
      row.backend,
      row.build,
      typeof row.monitorExecution === 'string' ? row.monitorExecution : row.monitorExecution ? 'on' : 'off',
      String(row.items),
      String(row.fires),
      String(row.callsPerFire),
      String(row.transactionOpsPerFire),
      Object.entries(row.breakdownPerFire)
        .map(([method, count]) => `${method} ${count}`)
        .join(', ') || '—',
      String(row.serverRequestsPerFire),
      Number.isNaN(row.watchEventsPerFire) ? '—' : String(row.watchEventsPerFire),
      row.note,
    ]),
    data: rows,
  };
}
