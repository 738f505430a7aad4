// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${ENV} references literally
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConfigValue, readConfigField } from '../src/cli/config-values.js';
import { describeRegistry, resolveRegistryConfiguration } from '../src/cli/connect.js';
import { CliError, ExitCode } from '../src/cli/errors.js';
import { formatTable, toJson } from '../src/cli/format.js';
import { looksLikeRegistryUrl, parseRegistryUrl, redact } from '../src/cli/registry-url.js';
import {
  type CoordinatorRegistryCenter,
  RegistryError,
  resolveJobConfiguration,
  ScheduleJobBootstrap,
  silentLogger,
} from '../src/index.js';
import { memoryCliRunner } from './support/run-cli.js';

function usageError(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
    return error as CliError;
  }
  throw new Error('expected a CliError');
}

describe('parseRegistryUrl', () => {
  it('parses ZooKeeper URLs with several hosts, default ports and digest userinfo', () => {
    expect(parseRegistryUrl('zookeeper://zk1:2181,zk2:2182,zk3/shop')).toEqual({
      type: 'zookeeper',
      serverLists: 'zk1:2181,zk2:2182,zk3:2181',
      namespace: 'shop',
    });
    expect(parseRegistryUrl('zookeeper://ops:p%40ss@127.0.0.1:2181/a/b/')).toEqual({
      type: 'zookeeper',
      serverLists: '127.0.0.1:2181',
      namespace: 'a/b',
      digest: 'ops:p@ss',
    });
    expect(parseRegistryUrl('zookeeper://u:p@zk/shop', { digest: 'other:pw' })).toMatchObject({
      digest: 'other:pw',
    });
    expect(parseRegistryUrl('ZOOKEEPER://[::1]:2181/shop')).toMatchObject({ serverLists: '[::1]:2181' });
  });

  it('turns etcd hosts into http endpoints and etcds into https; userinfo is user and password', () => {
    expect(parseRegistryUrl('etcd://e1:2379,e2/shop')).toEqual({
      type: 'etcd',
      endpoints: ['http://e1:2379', 'http://e2:2379'],
      namespace: 'shop',
    });
    expect(parseRegistryUrl('etcds://root:pw@e1:2379/shop')).toEqual({
      type: 'etcd',
      endpoints: ['https://e1:2379'],
      namespace: 'shop',
      username: 'root',
      password: 'pw',
    });
    expect(parseRegistryUrl('etcd://e1/shop', { username: 'u', password: 'p' })).toMatchObject({
      username: 'u',
      password: 'p',
    });
  });

  it('parses Redis URLs: one host, port 6379 by default, credentials as user name and password', () => {
    expect(parseRegistryUrl('redis://r1/shop')).toEqual({
      type: 'redis',
      url: 'redis://r1:6379',
      namespace: 'shop',
    });
    expect(parseRegistryUrl('rediss://ops:p%40ss@r1:6380/shop/eu')).toEqual({
      type: 'redis',
      url: 'rediss://r1:6380',
      namespace: 'shop/eu',
      username: 'ops',
      password: 'p@ss',
    });
    expect(parseRegistryUrl('redis://r1/shop', { username: 'u', password: 'p' })).toMatchObject({
      username: 'u',
      password: 'p',
    });
    expect(usageError(() => parseRegistryUrl('redis://r1/shop', { digest: 'u:p' })).message).toContain(
      '--digest is for ZooKeeper; Redis takes --username and --password',
    );
  });

  it.each([
    ['memory://shop', 'lives inside one process'],
    ['redis+cluster://h:1/shop', "unknown scheme 'redis+cluster://'"],
    ['redis://a:1,b:2/shop', 'for Sentinel or Cluster pass a registry file'],
    ['redis://h:1', 'no namespace given'],
    ['zookeeper:///shop', 'no host given'],
    ['zookeeper://zk:2181', 'no namespace given'],
    ['zookeeper://zk:2181/', 'no namespace given'],
    ['zookeeper://zk:99999/shop', "'zk:99999' has an invalid port"],
    ['zookeeper://zk:/shop', "'zk:' has an invalid port"],
    ['zookeeper://zk_1:2181/shop', "'zk_1:2181' is not host[:port]"],
    ['etcd://a,,b/shop', "'' is not host[:port]"],
    ['etcd://h/shop?x=1', 'query strings'],
    ['zookeeper://user@zk/shop', 'credentials must be user:password@'],
    ['zookeeper:/zk:2181/shop', 'expected scheme://hosts/namespace'],
  ])('%s is rejected: %s', (url, reason) => {
    const error = usageError(() => parseRegistryUrl(url));
    expect(error.message).toContain(`Invalid registry URL '${redact(url)}'`);
    expect(error.message).toContain(reason);
    expect(error.message).toContain('accepted: zookeeper://host:2181[,host2:2181...]/namespace, etcd://');
  });

  it('never shows a password in messages', () => {
    const error = usageError(() => parseRegistryUrl('zookeeper://ops:secret@zk:0/shop'));
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain("'zookeeper://ops:***@zk:0/shop'");
  });

  it('rejects credentials of the other backend', () => {
    expect(usageError(() => parseRegistryUrl('zookeeper://zk/shop', { username: 'u' })).message).toContain(
      '--username/--password are for etcd',
    );
    expect(usageError(() => parseRegistryUrl('etcd://e/shop', { digest: 'u:p' })).message).toContain(
      '--digest is for ZooKeeper',
    );
  });

  it('tells URLs from file paths', () => {
    expect(looksLikeRegistryUrl('zookeeper://zk/shop')).toBe(true);
    expect(looksLikeRegistryUrl('zookeeper:/zk/shop')).toBe(true);
    expect(looksLikeRegistryUrl('./elasticjob.yaml')).toBe(false);
    expect(looksLikeRegistryUrl('/etc/elasticjob.yaml')).toBe(false);
  });
});

describe('resolveRegistryConfiguration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ej-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const target = (registry: string | undefined, extra: object = {}) => ({
    registry,
    credentials: {},
    timeoutMs: 1234,
    env: {},
    ...extra,
  });

  it('adds the connection timeout to URL configurations', async () => {
    expect(await resolveRegistryConfiguration(target('etcd://e1/shop'))).toEqual({
      type: 'etcd',
      endpoints: ['http://e1:2379'],
      namespace: 'shop',
      connectionTimeoutMs: 1234,
    });
  });

  it('reads the registry section of a file, with env references and credentials from options', async () => {
    const file = join(dir, 'registry.yaml');
    await writeFile(file, 'registry:\n  type: zookeeper\n  serverLists: ${ZK}\n  namespace: shop\n');
    expect(
      await resolveRegistryConfiguration(
        target(file, { env: { ZK: 'zk:2181' }, credentials: { digest: 'a:b' } }),
      ),
    ).toEqual({
      type: 'zookeeper',
      serverLists: 'zk:2181',
      namespace: 'shop',
      digest: 'a:b',
      connectionTimeoutMs: 1234,
    });
  });

  it('rejects a missing option, a missing file, and a memory registry file', async () => {
    await expect(resolveRegistryConfiguration(target(undefined))).rejects.toThrow(
      /No registry given: pass --registry <url\|file> or set ELASTICJOB_REGISTRY/,
    );
    await expect(resolveRegistryConfiguration(target(join(dir, 'nope.yaml')))).rejects.toThrow(
      /is neither a registry URL nor an existing file; accepted: zookeeper:\/\//,
    );
    const file = join(dir, 'memory.yaml');
    await writeFile(file, 'registry:\n  type: memory\n');
    await expect(resolveRegistryConfiguration(target(file))).rejects.toThrow(/names a memory registry/);
  });

  it('describes a registry without its password', () => {
    expect(
      describeRegistry({ type: 'etcd', endpoints: ['http://e:2379'], namespace: 's', password: 'x' }),
    ).toBe('etcd://e:2379/s');
    expect(
      describeRegistry({ type: 'etcd', endpoints: ['https://e:2379', 'https://f:2379/'], namespace: 's' }),
    ).toBe('etcds://e:2379,f:2379/s');
    expect(
      describeRegistry({ type: 'etcd', endpoints: ['http://e:2379', 'https://f:2379'], namespace: 's' }),
    ).toBe('etcd://http://e:2379,https://f:2379/s');
    expect(
      describeRegistry({ type: 'zookeeper', serverLists: 'a:1,b:2', namespace: 's', digest: 'u:x' }),
    ).toBe('zookeeper://a:1,b:2/s');
    expect(describeRegistry({ type: 'redis', url: 'rediss://u:secret@r:6380/', namespace: 's' })).toBe(
      'rediss://u:***@r:6380/s',
    );
    expect(describeRegistry({ type: 'redis', url: 'redis+sentinel://a:1,b:2/main', namespace: 's' })).toBe(
      'redis+sentinel://a:1,b:2/main/s',
    );
  });
});

describe('config values', () => {
  const config = resolveJobConfiguration({
    jobName: 'orders',
    cron: '0 * * * * ?',
    shardingTotalCount: 3,
    props: { a: '1' },
  });

  it('parses values by field type', () => {
    expect(applyConfigValue(config, 'shardingTotalCount', '5').value).toBe(5);
    expect(applyConfigValue(config, 'maxTimeDiffSeconds', '-1').value).toBe(-1);
    expect(applyConfigValue(config, 'failover', 'true').value).toBe(true);
    expect(applyConfigValue(config, 'jobListenerTypes', 'a, b').value).toEqual(['a', 'b']);
    expect(applyConfigValue(config, 'jobListenerTypes', '').value).toEqual([]);
    expect(applyConfigValue(config, 'cron', '0/5 * * * * ?').configuration.cron).toBe('0/5 * * * * ?');
    expect(applyConfigValue(config, 'props.b', '2').configuration.props).toEqual({ a: '1', b: '2' });
  });

  it.each([
    [
      'shardingTotalCount',
      'abc',
      'Invalid value "abc" for shardingTotalCount: expected an integer from 1 to 2147483647',
    ],
    ['shardingTotalCount', '1.5', 'expected an integer'],
    ['reconcileIntervalMinutes', '', 'expected an integer (minutes'],
    ['misfire', 'yes', 'Invalid value "yes" for misfire: expected true or false'],
    ['jobName', 'x', "Cannot set 'jobName': the job name is its identity"],
    ['props', 'x', 'set one prop at a time with props.<name>'],
    ['nope', 'x', "Cannot set 'nope': it is not a job configuration field; settable: cron, timeZone"],
  ])('%s = %j is rejected', (field, value, message) => {
    expect(usageError(() => applyConfigValue(config, field, value)).message).toContain(message);
  });

  it('reads fields and props', () => {
    expect(readConfigField(config, 'cron')).toBe('0 * * * * ?');
    expect(readConfigField(config, 'props.a')).toBe('1');
    expect(readConfigField(config, 'props')).toEqual({ a: '1' });
    expect(usageError(() => readConfigField(config, 'cronn')).message).toContain(
      "Unknown configuration field 'cronn'",
    );
  });
});

describe('format', () => {
  it('aligns tables and shows empty cells as -', () => {
    expect(
      formatTable(
        ['A', 'LONGER'],
        [
          ['x', ''],
          ['yyy', ['p', 'q']],
        ],
      ),
    ).toBe('A    LONGER\nx    -\nyyy  p,q\n');
  });
  it('writes undefined properties as null in JSON', () => {
    expect(toJson({ a: undefined, b: [1] })).toBe('{\n  "a": null,\n  "b": [\n    1\n  ]\n}\n');
  });
});

describe('runCli in process (memory registry)', () => {
  const server = new MemoryRegistryServer();
  const namespace = 'cli-unit';
  let bootstrap: ScheduleJobBootstrap;
  let jobClient: CoordinatorRegistryCenter;

  beforeAll(async () => {
    jobClient = new MemoryRegistryCenter({ server, namespace });
    await jobClient.start();
    bootstrap = new ScheduleJobBootstrap(
      jobClient,
      { execute() {} },
      { jobName: 'orders', cron: '0 0 0 1 1 ? 2099', shardingTotalCount: 2 },
      { instanceId: 'a', serverIp: '10.0.0.1', logger: silentLogger },
    );
    await bootstrap.schedule();
  });
  afterAll(async () => {
    await bootstrap.shutdown();
    await jobClient.close();
  });

  const run = memoryCliRunner(server, namespace);

  it('lists jobs and closes its registry client', async () => {
    const result = await run(['jobs']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /^NAME\s+STATUS\s+CRON\s+INSTANCES\s+TOTAL\s+DESCRIPTION\norders\s+OK\s+0 0 0 1 1 \? 2099\s+1\s+2\s+-\n$/,
    );
    await expect(result.clients[0]!.get('/orders/config')).rejects.toThrow(RegistryError);
  });

  it('maps errors to exit codes', async () => {
    expect(await run(['job', 'nope'])).toMatchObject({
      code: ExitCode.UNKNOWN_JOB,
      stderr: "elasticjob: Job 'nope' not found in namespace 'cli-unit'; known jobs: orders\n",
    });
    const failing = await run(['jobs'], async () => {
      throw new RegistryError('CONNECTION_LOSS', 'server went away');
    });
    expect(failing).toMatchObject({
      code: ExitCode.REGISTRY,
      stderr: 'elasticjob: Registry unreachable (CONNECTION_LOSS): server went away\n',
    });
    expect((await run(['jobs', '--timeout-ms', '0'])).stderr).toContain('Invalid --timeout-ms "0"');
    expect((await run(['nonsense'])).code).toBe(ExitCode.USAGE);
    expect((await run(['job'])).stderr).toContain("missing required argument 'name'");
    const help = await run(['trigger', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: elasticjob trigger [options] <job>');
  });

  it('reports a failing command even when closing fails too, and a failing close alone', async () => {
    const closeFails = async () => {
      const client = new MemoryRegistryCenter({ server, namespace });
      await client.start();
      const close = client.close.bind(client);
      client.close = async () => {
        await close();
        throw new RegistryError('CONNECTION_LOSS', 'close failed');
      };
      return client;
    };
    expect(await run(['job', 'nope'], closeFails)).toMatchObject({ code: ExitCode.UNKNOWN_JOB });
    expect(await run(['jobs'], closeFails)).toMatchObject({
      code: ExitCode.REGISTRY,
      stderr: 'elasticjob: Registry unreachable (CONNECTION_LOSS): close failed\n',
    });
  });
});
