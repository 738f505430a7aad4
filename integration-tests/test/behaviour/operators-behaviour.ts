/**
 * What operators meet in production, through the lifecycle API, parameterised by registry (memory
 * here; real ZooKeeper and etcd in integration-tests): a broken stored configuration next to healthy
 * jobs, its repair by a conditional whole-configuration replace, unknown server targets, and a mixed
 * cluster where a Java ElasticJob instance ignores the shutdown command. Conditions are awaited,
 * never slept for.
 */

import {
  type CoordinatorRegistryCenter,
  configurationVersion,
  createJobOperationAPIs,
  type JobConfiguration,
  JobConfigurationConflictError,
  JobConfigurationError,
  resolveJobConfiguration,
  ServerNotFoundError,
  toJobConfigurationYaml,
  toJobInstanceYaml,
} from '@elasticjob-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { id, ip, type LifecycleRegistryFixture, lifecycleCluster } from './lifecycle-cluster.js';

/** Valid YAML of a job, as the API writes it. */
const yamlOf = (configuration: JobConfiguration) =>
  toJobConfigurationYaml(resolveJobConfiguration(configuration));

/** A stored value that is not even YAML: an unclosed flow sequence on line 3. */
const BROKEN_YAML = 'jobName: reports\ncron: 0 0 * * * ?\nshardingTotalCount: [2\n';

export function operatorsBehaviourSuite(fixture: LifecycleRegistryFixture): void {
  describe(`operators' lifecycle API on ${fixture.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const waitFor = <T>(assertion: () => T | Promise<T>) =>
      vi.waitFor(assertion, { timeout: fixture.waitTimeoutMs, interval: 10 });

    async function namespace() {
      const { admin, apis, client, start } = await lifecycleCluster(fixture, 'operators', cleanups);
      /** Writes a job node and a raw `config` value, as a hand edit or a broken tool would. */
      const writeRaw = async (jobName: string, yaml: string) => {
        await admin.persist(`/${jobName}`, 'SimpleJob');
        await admin.persist(`/${jobName}/config`, yaml);
      };
      /**
       * A Java ElasticJob instance as the registry sees it: its server and ephemeral instance node
       * (on its own session); it ignores `shutdown/` and shuts the job down when its instance node
       * is deleted (ElasticJob's ShutdownListenerManager).
       */
      const javaInstance = async (jobName: string, n: number) => {
        const session = await client();
        await session.persist(`/${jobName}/servers/${ip(n)}`, 'ENABLED');
        await session.persistEphemeral(
          `/${jobName}/instances/${id(n)}`,
          toJobInstanceYaml({ jobInstanceId: id(n), serverIp: ip(n) }),
        );
        const seen = { shutDown: false };
        await session.watch(`/${jobName}/instances`, (event) => {
          if (event.type === 'DELETED' && event.key === `/${jobName}/instances/${id(n)}`)
            seen.shutDown = true;
        });
        return seen;
      };
      return { admin, apis, client, start, writeRaw, javaInstance };
    }

    const job = (overrides: Partial<JobConfiguration> = {}): JobConfiguration => ({
      jobName: 'orders',
      cron: '0 0 0 1 1 ? 2099',
      shardingTotalCount: 2,
      description: 'order sync',
      ...overrides,
    });

    it('lists a job whose stored configuration is broken as INVALID_CONFIG without hiding the others', async () => {
      const n = await namespace();
      await n.start(1, job());
      await n.writeRaw('reports', BROKEN_YAML);
      await n.writeRaw(
        'billing',
        yamlOf({ jobName: 'billing', cron: '0 0 * * * ?', shardingTotalCount: 3, description: 'invoices' })
          .replace('shardingTotalCount: 3', 'shardingTotalCount: -1')
          .replace('cron: 0 0 * * * ?', 'cron: 0 0 25 * * ?'),
      );

      const all = await n.apis.jobStatisticsAPI.getAllJobsBriefInfo();
      expect(all.map((info) => info.jobName)).toEqual(['billing', 'orders', 'reports']);
      expect(all.map((info) => info.status === 'INVALID_CONFIG')).toEqual([true, false, true]);
      const [billing, , reports] = all;
      // A broken YAML: the first syntax error, positioned, with the line and a caret.
      expect(reports!.configurationError).toMatch(/malformed YAML at line 3, column 23: /);
      expect(reports!.configurationError).toContain('  3 | shardingTotalCount: [2\n');
      expect(reports).toMatchObject({ cron: '', shardingTotalCount: 0, description: '' });
      // Invalid values: every problem, and what is readable is still shown.
      expect(billing!.configurationError).toMatch(/2 problems: .*hours.*shardingTotalCount = -1/);
      expect(billing).toMatchObject({ cron: '0 0 25 * * ?', description: 'invoices', shardingTotalCount: 0 });

      expect(await n.apis.jobStatisticsAPI.getJobBriefInfo('reports')).toEqual(reports);
      expect(await n.apis.shardingStatisticsAPI.getShardingInfo('reports')).toEqual([]);
      const stored = await n.apis.jobConfigurationAPI.getStoredConfiguration('reports');
      expect(stored).toMatchObject({ jobName: 'reports', yaml: BROKEN_YAML, configuration: undefined });
      expect(stored.version).toBe(configurationVersion(BROKEN_YAML));
      expect(stored.error).toBeInstanceOf(JobConfigurationError);
      await expect(n.apis.jobConfigurationAPI.getJobConfiguration('reports')).rejects.toMatchObject({
        name: 'JobConfigurationError',
        source: BROKEN_YAML,
      });
    });

    it('repairs a broken configuration by a validated replace that returns the diff', async () => {
      const n = await namespace();
      await n.writeRaw('reports', BROKEN_YAML);
      const api = n.apis.jobConfigurationAPI;
      const { version } = await api.getStoredConfiguration('reports');

      // Every problem of the replacement, once; nothing written.
      await expect(
        api.replaceJobConfiguration(
          'reports',
          'jobName: reports\ncron: 0 0 25 * * ?\nshardingTotalCount: -1\n',
        ),
      ).rejects.toSatisfy(
        (error) =>
          error instanceof JobConfigurationError &&
          error.issues.map((issue) => issue.field).join() === 'cron,shardingTotalCount',
      );
      await expect(
        api.replaceJobConfiguration('reports', yamlOf(job({ jobName: 'other' }))),
      ).rejects.toMatchObject({ field: 'jobName' });
      expect(await n.admin.getDirectly('/reports/config')).toBe(BROKEN_YAML);

      const repaired = yamlOf({ jobName: 'reports', cron: '0 0 * * * ?', shardingTotalCount: 2 });
      const result = await api.replaceJobConfiguration('reports', repaired, { expectedVersion: version });
      expect(result.previous).toEqual({ yaml: BROKEN_YAML, version });
      expect(result.current).toEqual({ yaml: repaired, version: configurationVersion(repaired) });
      expect(result.diff).toContain('--- reports/config (stored)\n+++ reports/config (new)\n');
      expect(result.diff).toContain('\n-shardingTotalCount: [2\n');
      expect(result.diff).toContain('\n+shardingTotalCount: 2\n');
      expect(await n.admin.getDirectly('/reports/config')).toBe(repaired);
      expect((await n.apis.jobStatisticsAPI.getJobBriefInfo('reports')).status).toBe('CRASHED');
      // Replacing with the same value writes nothing and reports no diff.
      expect((await api.replaceJobConfiguration('reports', repaired)).diff).toBe('');
    });

    it('never loses an update: a stale expected version, or a change racing the write, is a conflict', async () => {
      const n = await namespace();
      const bootstrap = await n.start(1, job({ cron: '0 0 * * * ?' }));
      const api = n.apis.jobConfigurationAPI;
      const before = await api.getStoredConfiguration('orders');
      await api.updateJobConfiguration({ ...before.configuration!, description: 'first writer' });
      await expect(
        api.replaceJobConfiguration(
          'orders',
          yamlOf(job({ cron: '0 0 * * * ?', description: 'second writer' })),
          {
            expectedVersion: before.version,
          },
        ),
      ).rejects.toSatisfy(
        (error) =>
          error instanceof JobConfigurationConflictError &&
          error.expectedVersion === before.version &&
          error.actualVersion !== before.version,
      );
      await expect(
        api.updateJobConfiguration(before.configuration!, { expectedVersion: before.version }),
      ).rejects.toBeInstanceOf(JobConfigurationConflictError);
      expect((await api.getJobConfiguration('orders')).description).toBe('first writer');

      // Another writer commits between this call's read and its write: the transaction's value
      // check fails the write instead of overwriting.
      const racing = new Proxy(n.admin, {
        get(target, property, receiver) {
          if (property !== 'executeInTransaction') {
            const value = Reflect.get(target, property, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          }
          return async (operations: Parameters<CoordinatorRegistryCenter['executeInTransaction']>[0]) => {
            await target.update('/orders/config', yamlOf(job({ cron: '0 0 * * * ?', description: 'racer' })));
            return target.executeInTransaction(operations);
          };
        },
      });
      await expect(
        createJobOperationAPIs(racing).jobConfigurationAPI.replaceJobConfiguration(
          'orders',
          yamlOf(job({ cron: '0/5 * * * * ?', description: 'lost?' })),
        ),
      ).rejects.toBeInstanceOf(JobConfigurationConflictError);
      expect((await api.getJobConfiguration('orders')).description).toBe('racer');

      // A replace that wins is applied by the running instance like any configuration change.
      await api.replaceJobConfiguration('orders', yamlOf(job({ cron: '0 30 * * * ?' })));
      await waitFor(() => expect(bootstrap.configuration.cron).toBe('0 30 * * * ?'));
    });

    it('refuses unknown server targets naming the known ones, writing nothing; --force pre-disables', async () => {
      const n = await namespace();
      await n.start(1, job());
      await n.start(2, job());
      const operate = n.apis.jobOperateAPI;
      await expect(operate.disable('orders', '10.0.0.12')).rejects.toSatisfy(
        (error) =>
          error instanceof ServerNotFoundError &&
          error.jobName === 'orders' &&
          error.knownServerIps.join() === `${ip(1)},${ip(2)}`,
      );
      await expect(operate.enable('orders', 'not-an-ip')).rejects.toThrow(/IPv4\/IPv6 address/);
      expect(await n.admin.getChildrenKeys('/orders/servers')).toEqual([ip(2), ip(1)]);
      expect(await operate.disable('orders', ip(9), { force: true })).toEqual([
        { jobName: 'orders', serverIp: ip(9) },
      ]);
      expect(await n.admin.getDirectly(`/orders/servers/${ip(9)}`)).toBe('DISABLED');
      expect(await operate.enable('orders', ip(1))).toEqual([{ jobName: 'orders', serverIp: ip(1) }]);
    });

    it('shuts down a mixed cluster: the TypeScript instance by command, the Java one by its instance node', async () => {
      const n = await namespace();
      const ts = await n.start(1, job());
      const java = await n.javaInstance('orders', 2);
      const operate = n.apis.jobOperateAPI;
      // Operations that work on Java instances keep working on them.
      expect(await operate.disable('orders', ip(2))).toEqual([{ jobName: 'orders', serverIp: ip(2) }]);
      expect(await operate.enable('orders', ip(2))).toEqual([{ jobName: 'orders', serverIp: ip(2) }]);

      // The Java instance never acts on the command: after the bound it gets ElasticJob's protocol.
      const commandTimeoutMs = 200;
      expect(await operate.shutdown('orders', ip(2), { commandTimeoutMs })).toEqual([
        { jobName: 'orders', instanceId: id(2), serverIp: ip(2), delivery: 'INSTANCE_NODE_DELETED' },
      ]);
      await waitFor(() => expect(java.shutDown).toBe(true)); // its own watch sees the deletion
      expect(await n.admin.isExisted(`/orders/instances/${id(2)}`)).toBe(false);

      // The TypeScript instance acts on the command within the bound.
      expect(await operate.shutdown('orders', ip(1), { commandTimeoutMs: fixture.waitTimeoutMs })).toEqual([
        { jobName: 'orders', instanceId: id(1), serverIp: ip(1), delivery: 'SHUTDOWN_COMMAND' },
      ]);
      await waitFor(() => expect(ts.nextFireTimeMs).toBeUndefined());
      await waitFor(async () => expect(await n.admin.getChildrenKeys('/orders/instances')).toEqual([]));

      // remove on a Java instance: the same fallback, then its server node goes.
      const again = await n.javaInstance('orders', 3);
      const removed = await operate.remove('orders', ip(3), { commandTimeoutMs });
      expect(removed.instances.map((instance) => instance.delivery)).toEqual(['INSTANCE_NODE_DELETED']);
      expect(removed.servers).toEqual([{ jobName: 'orders', serverIp: ip(3) }]);
      await waitFor(() => expect(again.shutDown).toBe(true));
    });

    it('does not fall back for an instance that acknowledged receipt of the command and is still draining', async () => {
      const n = await namespace();
      await n.start(1, job());
      // A slow ElasticJob-TS instance: it acknowledges receipt by giving its command a value, then
      // takes longer than the bound to drain (here: forever), keeping its instance node.
      const draining = await n.javaInstance('orders', 4);
      const session = await n.client();
      const command = `/orders/shutdown/${id(4)}`;
      await session.watch('/orders/shutdown', (event) => {
        if (event.type === 'ADDED' && event.key === command) void session.update(command, 'SHUTTING_DOWN');
      });
      expect(await n.apis.jobOperateAPI.shutdown('orders', ip(4), { commandTimeoutMs: 200 })).toEqual([
        { jobName: 'orders', instanceId: id(4), serverIp: ip(4), delivery: 'SHUTDOWN_COMMAND' },
      ]);
      expect(draining.shutDown).toBe(false);
      expect(await n.admin.isExisted(`/orders/instances/${id(4)}`)).toBe(true);
    });
  });
}
