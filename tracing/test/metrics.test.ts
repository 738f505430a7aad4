/**
 * Prometheus metrics over HTTP after a real failover and misfire: every metric family has real
 * values; `/healthz`, `/readyz`, loopback default and bearer-token auth.
 */
import { randomUUID } from 'node:crypto';
import type { JobEventListener, JobReshardingEvent, ScheduleJobBootstrap } from '@elasticjob-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ElasticJobMetrics,
  METRIC_NAMES,
  type MonitoringServer,
  MonitoringServerOptionsError,
  type ObservableJob,
  startEventTracing,
  startMonitoringServer,
  validateMonitoringServerOptions,
} from '../src/index.js';
import { sqliteBackend } from './support/backends.js';
import { runFailoverAndMisfire, TestCluster, waitFor } from './support/cluster.js';

/** Sample lines of one metric: `name{labels} value` → [labels, value]. */
function samples(text: string, name: string): Array<[string, number]> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^[^{ ]+(\{[^}]*\})? (\S+)$/.exec(line);
      return [match?.[1] ?? '', Number(match?.[2])];
    });
}

function value(text: string, name: string, labels: string): number | undefined {
  return samples(text, name).find(([l]) => l === labels)?.[1];
}

describe('metrics', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('serves every metric family with real values after a failover', async () => {
    const backend = sqliteBackend();
    await backend.setup();
    cleanups.push(() => backend.teardown());
    const tracing = await startEventTracing({ url: await backend.newDatabaseUrl() });
    cleanups.push(() => tracing.close());
    const cluster = new TestCluster();
    cleanups.push(() => cluster.close());
    const metrics = new ElasticJobMetrics();
    metrics.observeTracing(tracing.writer);
    const listeners: JobEventListener[] = [];
    // Reshardings are posted by the kernel on the leader; one more goes through the same public
    // subscription the kernel's bus delivers to, so the counter is exercised either way.
    const withCapturedListener = (bootstrap: ScheduleJobBootstrap): ObservableJob => ({
      get configuration() {
        return bootstrap.configuration;
      },
      get failoverBacklog() {
        return bootstrap.failoverBacklog;
      },
      get nextFireTimeMs() {
        return bootstrap.nextFireTimeMs;
      },
      isLeader: () => bootstrap.isLeader(),
      subscribe(listener) {
        listeners.push(listener);
        return bootstrap.subscribe(listener);
      },
    });
    const { bootstrap: survivor } = await runFailoverAndMisfire(cluster, (bootstrap, registry) => {
      tracing.attach(bootstrap);
      metrics.observeJob(withCapturedListener(bootstrap), { registryCenter: registry });
      if (bootstrap.instance.jobInstanceId === '10.0.0.1@-@1001') metrics.observeRegistryCenter(registry);
    });
    const resharding: JobReshardingEvent = {
      kind: 'resharding',
      id: randomUUID(),
      jobName: 'orders',
      leaderInstanceId: '10.0.0.1@-@1001',
      assignment: { '10.0.0.1@-@1001': [0, 1] },
      creationTimeMs: cluster.clock.now(),
    };
    await listeners[0]?.(resharding);
    await waitFor(() => expect(survivor.isLeader()).toBe(true));
    await waitFor(() => expect(survivor.failoverBacklog).toBe(0));

    const server = await startMonitoringServer({ metrics, port: 0 });
    cleanups.push(() => server.close());
    expect(server.host).toBe('127.0.0.1');
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();

    const job = '{job="orders"}';
    expect(value(text, METRIC_NAMES.executions, '{job="orders",source="FAILOVER",result="failure"}')).toBe(1);
    expect(
      value(text, METRIC_NAMES.executions, '{job="orders",source="MISFIRE",result="success"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(text, METRIC_NAMES.executions, '{job="orders",source="NORMAL_TRIGGER",result="success"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(value(text, METRIC_NAMES.misfires, job)).toBe(1);
    expect(value(text, METRIC_NAMES.failovers, job)).toBe(1);
    // The posted one, plus those the kernel posts itself on the leader (once it does).
    const posted = cluster.events.filter((e) => e.kind === 'resharding').length;
    expect(value(text, METRIC_NAMES.reshardings, job)).toBe(1 + posted);
    const completed = cluster.events.filter(
      (e) => e.kind === 'execution' && e.completeTimeMs !== undefined,
    ).length;
    expect(value(text, `${METRIC_NAMES.executionDuration}_count`, job)).toBe(completed);
    expect(value(text, `${METRIC_NAMES.executionDuration}_bucket`, '{le="86400",job="orders"}')).toBe(
      completed,
    );
    // The first fire's runs on both instances, started at the fire time (ManualClock): delay 0 s.
    // (The second fire misfired; the misfire run's staging is not matched to a fire time.)
    expect(value(text, `${METRIC_NAMES.scheduleDelay}_count`, job)).toBe(2);
    expect(value(text, `${METRIC_NAMES.scheduleDelay}_bucket`, '{le="0.001",job="orders"}')).toBe(2);
    expect(value(text, METRIC_NAMES.leader, job)).toBe(1);
    expect(value(text, METRIC_NAMES.instances, job)).toBe(1);
    expect(value(text, METRIC_NAMES.failoverBacklog, job)).toBe(0);
    expect(value(text, METRIC_NAMES.registrySessionUp, '')).toBe(1);
    expect(value(text, METRIC_NAMES.tracingDropped, '')).toBe(0);
    for (const name of Object.values(METRIC_NAMES)) expect(text).toContain(`# TYPE ${name} `);

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).text()).toBe('ready\n');
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('is not ready without a registered job, refuses other hosts without a token, and checks the token', async () => {
    const metrics = new ElasticJobMetrics();
    const open = async (options: Parameters<typeof startMonitoringServer>[0]): Promise<MonitoringServer> => {
      const server = await startMonitoringServer(options);
      cleanups.push(() => server.close());
      return server;
    };
    const plain = await open({ metrics, port: 0 });
    expect((await fetch(`${plain.url}/readyz`)).status).toBe(503);
    await expect(startMonitoringServer({ metrics, port: 0, host: '0.0.0.0' })).rejects.toThrow(
      MonitoringServerOptionsError,
    );
    await expect(startMonitoringServer({ metrics, port: 0, host: '0.0.0.0' })).rejects.toMatchObject({
      field: 'host',
    });
    await expect(startMonitoringServer({ metrics, port: 70_000 })).rejects.toThrow(/port must be an integer/);
    expect(() => validateMonitoringServerOptions({ port: 1.5 })).toThrow(
      expect.objectContaining({ field: 'port' }),
    );
    expect(validateMonitoringServerOptions({ host: '::1' })).toEqual({ host: '::1', port: 9464 });
    const guarded = await open({ metrics, port: 0, host: '0.0.0.0', bearerToken: 's3cret' });
    const url = `http://127.0.0.1:${guarded.port}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong!' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain(`${METRIC_NAMES.registrySessionUp} 1`);
  });
});
