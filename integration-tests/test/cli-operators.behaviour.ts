/**
 * The operators' scenarios of the `elasticjob` CLI, run inside the CLI suite of each backend
 * (cli.behaviour.ts) on a real ZooKeeper or etcd server: a broken stored configuration next to the
 * running job, its repair by `config replace`, unknown server targets, a Java-style instance that
 * ignores the shutdown command, and the `run` command logging at info. Each scenario uses its own
 * job so that the shared `orders` job is left as the other tests expect it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CoordinatorRegistryCenter,
  configurationVersion,
  resolveJobConfiguration,
  toJobConfigurationYaml,
  toJobInstanceYaml,
} from '@elasticjob-ts/core';
import { expect, it } from 'vitest';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the scenarios need from the enclosing suite (read after its `beforeAll`). */
export interface CliOperatorsContext {
  /** Runs the CLI against the suite's namespace. */
  run(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
  /** A client of the suite's namespace. */
  observer(): CoordinatorRegistryCenter;
  /** A scratch directory. */
  dir(): string;
  /** The suite's namespace. */
  namespace(): string;
}

const BROKEN = 'jobName: reports\ncron: 0 0 * * * ?\nshardingTotalCount: [2\n';
const yamlOf = (jobName: string, shardingTotalCount: number) =>
  toJobConfigurationYaml(resolveJobConfiguration({ jobName, cron: '0 0 * * * ?', shardingTotalCount }));

/** Registers the scenarios; call inside the backend's `describe`. */
export function cliOperatorsTests(context: CliOperatorsContext): void {
  it('a broken job is listed as INVALID_CONFIG beside the running one; config replace repairs it with a diff', async () => {
    const observer = context.observer();
    await observer.persist('/reports', 'SimpleJob');
    await observer.persist('/reports/config', BROKEN);
    try {
      const listed = await context.run(['jobs']);
      expect(listed.code).toBe(0);
      const lines = listed.stdout.split('\n');
      expect(lines[1]).toMatch(/^orders\s+(OK|SHARDING_FLAG)\s/);
      expect(lines[2]).toMatch(/^reports\s+INVALID_CONFIG\s/);
      expect(listed.stdout).toContain(
        "\nreports: Invalid configuration of job 'reports': malformed YAML at line 3, column 23: ",
      );
      expect(listed.stdout).toContain('  elasticjob config replace reports --file reports.yaml\n');

      const shown = await context.run(['job', 'reports']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('CONFIGURATION ERROR\n');
      expect(shown.stdout).toContain('  shardingTotalCount: [2\n\nREPAIR\n');
      expect((await context.run(['config', 'set', 'reports', 'cron', '0 0/5 * * * ?'])).code).toBe(2);

      const file = join(context.dir(), 'reports.yaml');
      await writeFile(file, 'jobName: reports\ncron: 0 0 25 * * ?\nshardingTotalCount: -1\n');
      const invalid = await context.run(['config', 'replace', 'reports', '--file', file]);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain('2 problems:\n');
      await writeFile(file, yamlOf('reports', 2));
      const stale = await context.run([
        'config',
        'replace',
        'reports',
        '--file',
        file,
        '--expected-version',
        'x',
      ]);
      expect(stale.code).toBe(5);
      const repaired = await context.run([
        'config',
        'replace',
        'reports',
        '--file',
        file,
        '--expected-version',
        configurationVersion(BROKEN),
      ]);
      expect(repaired.code).toBe(0);
      expect(repaired.stdout).toContain('\n-shardingTotalCount: [2\n');
      expect(repaired.stdout).toContain('\n+shardingTotalCount: 2\n');
      expect(await observer.getDirectly('/reports/config')).toBe(yamlOf('reports', 2));
      const after = JSON.parse((await context.run(['jobs', '--json'])).stdout) as { status: string }[];
      expect(after.map((job) => job.status)).not.toContain('INVALID_CONFIG');
    } finally {
      await observer.remove('/reports');
    }
  });

  it('disable --server of an unknown server exits 3 naming the known servers and writes nothing; --force pre-disables', async () => {
    const observer = context.observer();
    const unknown = await context.run(['disable', 'orders', '--server', '10.0.0.99']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe(
      `elasticjob: Server '10.0.0.99' is not a server of job 'orders' in namespace '${context.namespace()}'; known servers: 10.0.0.1, 10.0.0.2 (--force disables a server that has not joined the job yet)\n`,
    );
    expect(await observer.isExisted('/orders/servers/10.0.0.99')).toBe(false);
    expect((await context.run(['disable', 'orders', '--server', '10.0.0.999'])).code).toBe(2);
    const forced = await context.run(['disable', 'orders', '--server', '10.0.0.99', '--force']);
    expect(forced.code).toBe(0);
    expect(await observer.getDirectly('/orders/servers/10.0.0.99')).toBe('DISABLED');
    await observer.remove('/orders/servers/10.0.0.99');
  });

  it('shutdown deletes the instance node of an instance that ignores the command (a Java instance)', async () => {
    const observer = context.observer();
    await observer.persist('/legacy', 'com.example.LegacyJob');
    await observer.persist('/legacy/config', yamlOf('legacy', 1));
    await observer.persist('/legacy/servers/10.0.0.8', 'ENABLED');
    await observer.persistEphemeral(
      '/legacy/instances/10.0.0.8@-@4242',
      toJobInstanceYaml({ jobInstanceId: '10.0.0.8@-@4242', serverIp: '10.0.0.8' }),
    );
    try {
      const result = await context.run(['shutdown', 'legacy', '--command-timeout-ms', '300', '--json']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        jobName: 'legacy',
        instances: [
          {
            jobName: 'legacy',
            instanceId: '10.0.0.8@-@4242',
            serverIp: '10.0.0.8',
            delivery: 'INSTANCE_NODE_DELETED',
          },
        ],
      });
      expect(await observer.isExisted('/legacy/instances/10.0.0.8@-@4242')).toBe(false);
    } finally {
      await observer.remove('/legacy');
    }
  });
}
