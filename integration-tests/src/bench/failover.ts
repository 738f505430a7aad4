/**
 * Benchmark 3, failover latency: 2 job instances (separate processes, the integration tests'
 * `Cluster` and `job-instance` worker), 8 items that run 20 s each, failover on, a short session;
 * one instance is `kill -9`ed mid-run; measured: time from the kill until each item the dead
 * instance had in flight started on the survivor (first and last item), per backend, repeated.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { measureFailover } from '../harness/checker.js';
import { Cluster } from '../harness/cluster.js';
import type { Backend } from './backends.js';
import { sleep } from './processes.js';
import { type BenchTable, formatSpread, spread } from './stats.js';

/** Options of {@link benchFailover}. */
export interface FailoverOptions {
  /** Repetitions per backend (≥ 3 for the report). */
  readonly repetitions: number;
  /** Session timeout / lease TTL of the instances, in ms. @defaultValue 3000 */
  readonly sessionTimeoutMs?: number;
  /** How long each item runs, in ms. @defaultValue 20000 */
  readonly itemDurationMs?: number;
}

interface Repetition {
  /** Kill → the victim's `instances/{id}` DELETED, seen by a watch of the harness's client. */
  readonly detectedMs: number;
  /** Kill → end (s) of each run of the survivor's own items in progress after the kill, before the takeover. */
  readonly survivorRunEndsS: number[];
  readonly inFlight: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly taken: number;
  readonly killedAfterRunStartMs: number;
}

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}

async function repetition(
  backend: Backend,
  sessionTimeoutMs: number,
  itemDurationMs: number,
): Promise<Repetition> {
  const cluster = await Cluster.start(
    {
      registry: backend.connection,
      namespace: `bench-failover-${Date.now()}`,
      sessionTimeoutMs,
      job: {
        jobName: 'failover',
        cron: '* * * * * ?',
        shardingTotalCount: 8,
        failover: true,
        monitorExecution: true,
        misfire: true,
        itemDurationMs,
      },
      workerLogLevel: 'warn',
    },
    2,
  );
  try {
    const ids = cluster.runningInstanceIds();
    // Both instances run their items (4 each) of the same fire.
    const started = await waitFor(
      async () => {
        const { runs } = await cluster.readLogs();
        const open = runs.filter((run) => run.outcome === 'open');
        return ids.every((id) => open.filter((run) => run.instanceId === id).length >= 4) ? open : undefined;
      },
      30_000,
      100,
    );
    if (started === undefined) throw new Error('the instances did not start their items within 30 s');
    await sleep(1000); // mid-run
    const victim = 0;
    const victimId = cluster.worker(victim).instanceId;
    const runStart = Math.max(
      ...started.filter((run) => run.instanceId === victimId).map((run) => run.startMs),
    );
    const admin = await cluster.admin();
    let deletedAtMs = Number.NaN;
    const unwatch = await admin.watch('/failover/instances', (event) => {
      if (event.type === 'DELETED' && event.key.endsWith(`/${victimId}`)) deletedAtMs = Date.now();
    });
    const killedAtMs = await cluster.kill9(victim);
    const measured = await waitFor(
      async () => {
        const { runs } = await cluster.readLogs();
        const result = measureFailover(runs, victimId, killedAtMs);
        return result.length > 0 && result.every((m) => m.latencyMs !== undefined) ? result : undefined;
      },
      itemDurationMs * 2 + sessionTimeoutMs + 10_000,
      50,
    );
    await unwatch();
    const { runs } = await cluster.readLogs();
    const final = measured ?? measureFailover(runs, victimId, killedAtMs);
    const takeoverStart = Math.max(...final.map((m) => m.takeoverStartMs ?? Number.NaN));
    const survivorItems = new Set(
      started.filter((run) => run.instanceId !== victimId).map((run) => run.item),
    );
    const survivorRunEndsS = [
      ...new Set(
        runs
          .filter(
            (run) =>
              run.instanceId !== victimId &&
              survivorItems.has(run.item) &&
              run.stopMs !== undefined &&
              run.stopMs > killedAtMs &&
              !(run.startMs >= takeoverStart),
          )
          .map((run) => Math.round(((run.stopMs as number) - killedAtMs) / 1000)),
      ),
    ].sort((a, b) => a - b);
    const latencies = final.flatMap((m) => (m.latencyMs === undefined ? [] : [m.latencyMs]));
    return {
      detectedMs: deletedAtMs - killedAtMs,
      survivorRunEndsS,
      inFlight: final.length,
      taken: latencies.length,
      firstMs: latencies.length > 0 ? Math.min(...latencies) : Number.NaN,
      lastMs: latencies.length === final.length && latencies.length > 0 ? Math.max(...latencies) : Number.NaN,
      killedAfterRunStartMs: killedAtMs - runStart,
    };
  } finally {
    await cluster.close();
  }
}

/**
 * Runs benchmark 3.
 *
 * @param backends - started backends.
 * @param options - repetitions, session timeout, item duration.
 * @returns the table and raw figures.
 */
export async function benchFailover(
  backends: readonly Backend[],
  options: FailoverOptions,
): Promise<BenchTable> {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 3000;
  const itemDurationMs = options.itemDurationMs ?? 20_000;
  // Backends run side by side (their worker processes mostly sleep; the figures are seconds).
  const results = await Promise.all(
    backends.map(async (backend) => {
      const repetitions: Repetition[] = [];
      for (let i = 0; i < options.repetitions; i++) {
        repetitions.push(await repetition(backend, sessionTimeoutMs, itemDurationMs));
      }
      return { backend: backend.name, repetitions };
    }),
  );
  return {
    id: 'failover',
    title: '3. Failover latency after kill -9',
    caption:
      `2 instances (separate processes), 8 items of ${itemDurationMs / 1000} s each, cron every second, ` +
      `failover on, session timeout ${sessionTimeoutMs} ms; one instance killed ~1 s into its run. Time from ` +
      `the kill until the dead instance's in-flight items started on the survivor (first item / last item), ` +
      `each instance's executor pool ${availableParallelism() * 2} (CPU = availableParallelism × 2), ` +
      `ms, min / median / max over ${options.repetitions} repetitions. Target: last ≤ session + 500 ms = ` +
      `${sessionTimeoutMs + 500} ms. "instance gone" = kill → the victim's instance node DELETED (watch); ` +
      `"survivor busy until" = ends of the survivor's own-item runs after the kill (s, per repetition): ` +
      `failover items wait for them. The backends ran side by side.`,
    header: [
      'backend',
      'session ms',
      'items in flight (taken over)',
      'instance gone ms',
      'survivor busy until s',
      'first item ms',
      'last item ms',
    ],
    rows: results.map(({ backend, repetitions }) => [
      backend,
      String(sessionTimeoutMs),
      repetitions.map((r) => `${r.inFlight} (${r.taken})`).join(', '),
      formatSpread(spread(repetitions.map((r) => r.detectedMs))),
      repetitions.map((r) => r.survivorRunEndsS.join(' & ') || '—').join('; '),
      formatSpread(spread(repetitions.map((r) => r.firstMs))),
      formatSpread(spread(repetitions.map((r) => r.lastMs))),
    ]),
    data: results,
  };
}
