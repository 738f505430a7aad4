/**
 * `npm run start:observed` (`demo.js --observe`): the demo with event tracing into an embedded
 * SQLite history file and Prometheus metrics on a loopback HTTP listener.
 *
 * - History: `./elasticjob-demo-history.db` (env `DEMO_HISTORY_URL` overrides, e.g. a
 *   `postgres://` URL); read it with `npx elasticjob history ...`.
 * - Metrics: `http://127.0.0.1:9464/metrics`, `/healthz`, `/readyz` (env `DEMO_METRICS_PORT`).
 * - Console: `http://127.0.0.1:8899/` (env `DEMO_CONSOLE_PORT`), on loopback without users: the
 *   demo's job live, its operations, and this history.
 *
 * @module
 */
import { type RunningConsole, startConsole, tracingHistorySource } from '@elasticjob-ts/console';
import type { CoordinatorRegistryCenter, ScheduleJobBootstrap } from '@elasticjob-ts/core';
import {
  ElasticJobMetrics,
  type EventTracing,
  type MonitoringServer,
  startEventTracing,
  startMonitoringServer,
} from '@elasticjob-ts/tracing';

/** Tracing and metrics of the demo's job instances. */
export interface DemoObservability {
  /** Traces and measures one job instance. */
  attach(bootstrap: ScheduleJobBootstrap, registry: CoordinatorRegistryCenter): void;
  /** Writes the last events, prints a summary from the history database, stops the listener. */
  close(): Promise<void>;
}

/**
 * Opens the history store and the metrics listener and prints where to look.
 *
 * @param jobName - the demo job, for the printed commands.
 */
export async function startDemoObservability(jobName: string): Promise<DemoObservability> {
  const url = process.env.DEMO_HISTORY_URL ?? 'sqlite:./elasticjob-demo-history.db';
  const port = Number(process.env.DEMO_METRICS_PORT ?? 9464);
  const tracing: EventTracing = await startEventTracing({ url });
  const metrics = new ElasticJobMetrics();
  metrics.observeTracing(tracing.writer);
  const server: MonitoringServer = await startMonitoringServer({ metrics, port });
  console.log(
    [
      `Event tracing: every execution and status change goes to ${url}`,
      `  npx elasticjob history executions --db ${url} --job ${jobName}`,
      `  npx elasticjob history stats --db ${url} --job ${jobName}`,
      `Metrics: ${server.url}/metrics  (health: ${server.url}/healthz, readiness: ${server.url}/readyz)`,
      `  curl -s ${server.url}/metrics | grep '^elasticjob_'`,
      '',
    ].join('\n'),
  );
  let web: Promise<RunningConsole | undefined> | undefined;
  return {
    attach(bootstrap, registry) {
      // The console watches the demo's namespace through the first instance's registry client.
      web ??= startConsole({
        registries: [{ client: registry, type: 'memory', label: 'demo' }],
        history: tracingHistorySource(tracing.store.queries, async () => {}),
        port: Number(process.env.DEMO_CONSOLE_PORT ?? 8899),
      }).then(
        (running) => {
          console.log(`Console: ${running.url}  (jobs live, operations, history search)\n`);
          return running;
        },
        (error: unknown) => {
          console.log(`Console not started: ${(error as Error).message}\n`);
          return undefined;
        },
      );
      tracing.attach(bootstrap);
      metrics.observeJob(bootstrap, { registryCenter: registry });
      metrics.observeRegistryCenter(registry);
    },
    async close() {
      await (await web)?.close();
      await tracing.writer.flush();
      const { items } = await tracing.store.queries.findExecutions({ jobName }, { limit: 1000 });
      const failovers = items.filter((e) => e.source === 'FAILOVER').length;
      console.log(
        `\nHistory: ${items.length} item executions of '${jobName}' recorded (${failovers} by failover) in ${url}.`,
      );
      await tracing.close();
      await server.close();
    },
  };
}
