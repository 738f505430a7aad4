/**
 * The `elasticjob` CLI on what operators meet in production (in process, memory registry): a broken
 * stored configuration next to a healthy job, its repair by `config replace`, unknown server
 * targets, a Java instance that ignores the shutdown command, and every problem of a file listed.
 * The same scenarios run on real ZooKeeper and etcd in integration-tests (cli.*.test.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli/errors.js';
import {
  type CoordinatorRegistryCenter,
  configurationVersion,
  DEFAULT_LOG_LEVEL,
  logLevelFromEnvironment,
  resolveJobConfiguration,
  ScheduleJobBootstrap,
  silentLogger,
  toJobConfigurationYaml,
  toJobInstanceYaml,
} from '../src/index.js';
import { memoryCliRunner } from './support/run-cli.js';

const BROKEN = 'jobName: reports\ncron: 0 0 * * * ?\nshardingTotalCount: [2\n';
const REPAIRED = toJobConfigurationYaml(
  resolveJobConfiguration({ jobName: 'reports', cron: '0 0 * * * ?', shardingTotalCount: 2 }),
);

describe('elasticjob CLI for operators (memory registry)', () => {
  const server = new MemoryRegistryServer();
  const namespace = 'cli-operators';
  const run = memoryCliRunner(server, namespace);
  let admin: CoordinatorRegistryCenter;
  let bootstrap: ScheduleJobBootstrap;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ej-cli-operators-'));
    admin = new MemoryRegistryCenter({ server, namespace });
    await admin.start();
    bootstrap = new ScheduleJobBootstrap(
      admin,
      { execute() {} },
      { jobName: 'orders', cron: '0 0 0 1 1 ? 2099', shardingTotalCount: 2 },
      { instanceId: 'a', serverIp: '10.0.0.1', logger: silentLogger },
    );
    await bootstrap.schedule();
    await admin.persist('/reports', 'SimpleJob');
    await admin.persist('/reports/config', BROKEN);
  });
  afterAll(async () => {
    await bootstrap.shutdown();
    await admin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('jobs lists a broken job as INVALID_CONFIG with the error and the repair, next to the healthy one', async () => {
    const result = await run(['jobs']);
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+CRON\s+INSTANCES\s+TOTAL\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^orders\s+(OK|SHARDING_FLAG)\s+0 0 0 1 1 \? 2099\s+1\s+2\s+-$/);
    expect(lines[2]).toMatch(/^reports\s+INVALID_CONFIG\s+-\s+0\s+0\s+-$/);
    expect(result.stdout).toContain(
      "\nreports: Invalid configuration of job 'reports': malformed YAML at line 3, column 23: " +
        'Flow sequence in block collection must be sufficiently indented and end with a ]\n' +
        '  3 | shardingTotalCount: [2\n' +
        '    |                       ^\n' +
        'repair:\n' +
        '  elasticjob config get reports --raw > reports.yaml   # then fix the file\n' +
        '  elasticjob config replace reports --file reports.yaml\n',
    );
    const json = JSON.parse((await run(['jobs', '--json'])).stdout) as { jobName: string; status: string }[];
    expect(json.map((job) => [job.jobName, job.status === 'INVALID_CONFIG'])).toEqual([
      ['orders', false],
      ['reports', true],
    ]);
  });

  it('job <name> shows the raw stored value, the error and how to repair it', async () => {
    const result = await run(['job', 'reports']);
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).toContain(
      'Job reports: INVALID_CONFIG, 0 instances, 0 items\n\nCONFIGURATION ERROR\n',
    );
    expect(result.stdout).toContain(
      `STORED VALUE (/reports/config, version ${configurationVersion(BROKEN).slice(0, 12)})\n` +
        '  jobName: reports\n  cron: 0 0 * * * ?\n  shardingTotalCount: [2\n\nREPAIR\n',
    );
    expect((await run(['config', 'get', 'reports', '--raw'])).stdout).toBe(BROKEN);
    const set = await run(['config', 'set', 'reports', 'cron', '0 0/5 * * * ?']);
    expect(set.code).toBe(ExitCode.USAGE);
    expect(set.stderr).toContain("The stored configuration of job 'reports' is invalid:");
    expect(set.stderr).toContain('elasticjob config replace reports --file reports.yaml');
  });

  it('config replace lists every problem of a bad file, refuses a stale version, and repairs with a diff', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'jobName: reports\ncron: 0 0 25 * * ?\nshardingTotalCount: -1\n');
    const invalid = await run(['config', 'replace', 'reports', '--file', bad]);
    expect(invalid.code).toBe(ExitCode.USAGE);
    expect(invalid.stderr).toMatch(
      /^elasticjob: Invalid configuration of job 'reports': 2 problems:\n {2}- .*hours.*\n {2}- shardingTotalCount = -1 is invalid/,
    );
    const malformed = join(dir, 'malformed.yaml');
    await writeFile(malformed, 'jobName: reports\ncron: "0 0 * * * ?\n');
    const syntax = await run(['config', 'replace', 'reports', '--file', malformed]);
    expect(syntax.code).toBe(ExitCode.USAGE);
    expect(syntax.stderr.match(/malformed YAML at line \d+, column \d+/g)).toHaveLength(1);
    expect(syntax.stderr).toMatch(/\n {2}\d \| .*\n {4}\| *\^\n$/);

    const file = join(dir, 'reports.yaml');
    await writeFile(file, REPAIRED);
    const stale = await run(['config', 'replace', 'reports', '--file', file, '--expected-version', 'feed']);
    expect(stale.code).toBe(ExitCode.CONFLICT);
    expect(stale.stderr).toContain("The configuration of job 'reports' changed since it was read");
    expect(await admin.getDirectly('/reports/config')).toBe(BROKEN);

    const repaired = await run([
      'config',
      'replace',
      'reports',
      '--file',
      file,
      '--expected-version',
      configurationVersion(BROKEN),
    ]);
    expect(repaired).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(repaired.stdout).toMatch(/^--- reports\/config \(stored\)\n\+\+\+ reports\/config \(new\)\n@@ /);
    expect(repaired.stdout).toContain('\n-shardingTotalCount: [2\n');
    expect(repaired.stdout).toContain('\n+shardingTotalCount: 2\n');
    expect(repaired.stdout).toContain(
      `Replaced the configuration of job 'reports' (version ${configurationVersion(REPAIRED).slice(0, 12)})\n`,
    );
    expect(await admin.getDirectly('/reports/config')).toBe(REPAIRED);
    expect((await run(['config', 'replace', 'reports', '--file', file])).stdout).toBe(
      `No change: the configuration of job 'reports' already is ${file}\n`,
    );
    expect((await run(['config', 'replace', 'reports', '--file', join(dir, 'none.yaml')])).code).toBe(
      ExitCode.USAGE,
    );
  });

  it('disable --server refuses an unknown server (exit 3, naming the known ones) unless --force', async () => {
    const unknown = await run(['disable', 'orders', '--server', '10.0.0.77']);
    expect(unknown).toMatchObject({
      code: ExitCode.UNKNOWN_JOB,
      stderr:
        "elasticjob: Server '10.0.0.77' is not a server of job 'orders' in namespace 'cli-operators'; known servers: 10.0.0.1 (--force disables a server that has not joined the job yet)\n",
    });
    expect(await admin.isExisted('/orders/servers/10.0.0.77')).toBe(false);
    expect((await run(['enable', 'orders', '--server', 'hostx'])).code).toBe(ExitCode.USAGE);
    expect((await run(['disable', 'orders', '--force'])).code).toBe(ExitCode.USAGE);
    expect(await run(['disable', 'orders', '--server', '10.0.0.77', '--force'])).toMatchObject({
      code: ExitCode.OK,
      stdout: "Disabled job 'orders' on 1 server: 10.0.0.77\n",
    });
    await admin.remove('/orders/servers/10.0.0.77');
  });

  it('shutdown falls back to deleting the instance node of an instance that ignores the command', async () => {
    await admin.persist('/legacy', 'com.example.LegacyJob');
    await admin.persist(
      '/legacy/config',
      toJobConfigurationYaml(
        resolveJobConfiguration({ jobName: 'legacy', cron: '0 0 * * * ?', shardingTotalCount: 1 }),
      ),
    );
    await admin.persist('/legacy/servers/10.0.0.8', 'ENABLED');
    await admin.persistEphemeral(
      '/legacy/instances/10.0.0.8@-@4242',
      toJobInstanceYaml({ jobInstanceId: '10.0.0.8@-@4242', serverIp: '10.0.0.8' }),
    );
    const result = await run(['shutdown', 'legacy', '--command-timeout-ms', '100']);
    expect(result).toMatchObject({
      code: ExitCode.OK,
      stdout:
        "Shut down 1 instance of job 'legacy': 10.0.0.8@-@4242 (did not act on the command within 100 ms: instance node deleted, as ElasticJob does)\n",
    });
    expect(await admin.isExisted('/legacy/instances/10.0.0.8@-@4242')).toBe(false);
    expect((await run(['shutdown', 'legacy', '--command-timeout-ms', 'soon'])).code).toBe(ExitCode.USAGE);
  });
});

describe('log levels', () => {
  it('reads ELASTICJOB_LOG_LEVEL, naming it when the value is not a level', () => {
    expect(logLevelFromEnvironment({}, 'warn')).toBe('warn');
    expect(logLevelFromEnvironment({ ELASTICJOB_LOG_LEVEL: '' }, 'info')).toBe('info');
    expect(logLevelFromEnvironment({ ELASTICJOB_LOG_LEVEL: 'debug' }, 'warn')).toBe('debug');
    expect(() => logLevelFromEnvironment({ ELASTICJOB_LOG_LEVEL: 'loud' }, 'warn')).toThrow(
      'ELASTICJOB_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
    expect(DEFAULT_LOG_LEVEL).toBe('warn');
  });
});
