// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${ENV} references literally
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateObservabilitySections } from '../src/bootstrap-file/observability-section.js';
import { TRACING_PACKAGE } from '../src/bootstrap-file/tracing-package.js';
import {
  JobsFileError,
  type JobsFileIssue,
  loadJobsConfig,
  loadJobsFile,
  loadRegistryConfigurationFile,
  OneOffJobBootstrap,
  runJobsFromConfig,
  runJobsFromFile,
  ScheduleJobBootstrap,
  silentLogger,
} from '../src/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ej-config-file-'));
  await writeFile(
    join(dir, 'handlers.mjs'),
    [
      'export const simple = { execute() {} };',
      'export const dataflow = { fetchData() { return []; }, processData() {} };',
      'export default { execute() {} };',
      'export class Counter { constructor(context) { this.context = context; } execute() {} }',
      'export function makeJob(context) { return { name: context.jobName, execute() {} }; }',
      'export async function makeLater(context) { return { later: context.configuration.shardingTotalCount, execute() {} }; }',
      'export const notAJob = 42;',
      'export const returnsString = () => "nope";',
      'export const throws = () => { throw new Error("factory broke"); };',
      'export const both = { execute() {}, fetchData() {}, processData() {} };',
      'export const emptyObject = {};',
    ].join('\n'),
  );
  await writeFile(join(dir, 'broken.mjs'), 'export const x = ;\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function writeJobsFile(text: string, name?: string): Promise<string> {
  const file = join(dir, name ?? `jobs-${++fileCounter}.yaml`);
  await writeFile(file, text);
  return file;
}

async function issuesOf(
  promise: Promise<unknown>,
): Promise<{ error: JobsFileError; issues: JobsFileIssue[] }> {
  const error = await promise.then(
    () => {
      throw new Error('expected a JobsFileError');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(JobsFileError);
  return { error: error as JobsFileError, issues: [...(error as JobsFileError).issues] };
}

const zookeeperRegistry = 'registry:\n  type: zookeeper\n  serverLists: 127.0.0.1:2181\n  namespace: shop\n';

describe('loadJobsFile: a valid file', () => {
  it('reads the registry, the jobs, per-file options, and keeps string fields as written', async () => {
    const file = await writeJobsFile(`${zookeeperRegistry}instanceId: node-1
serverIp: 10.0.0.7
shutdownTimeoutMs: 5000
jobs:
  orders:
    handler: ./handlers.mjs#simple
    cron: 0/5 * * * * ?
    shardingTotalCount: 3
    shardingItemParameters: 0=Beijing,1=Shanghai,2=Guangzhou
    jobParameter: 0777
    props:
      retries: 3
      verbose: true
  backup:
    type: SCRIPT
    shardingTotalCount: 1
    props:
      script.command.line: /bin/true
`);
    const loaded = await loadJobsFile(file);
    expect(loaded.file).toBe(file);
    expect(loaded.registry).toEqual({ type: 'zookeeper', serverLists: '127.0.0.1:2181', namespace: 'shop' });
    expect(loaded.bootstrapOptions).toEqual({
      instanceId: 'node-1',
      serverIp: '10.0.0.7',
      shutdownTimeoutMs: 5000,
    });
    expect(loaded.jobs.map((job) => [job.jobName, job.scheduled, typeof job.job])).toEqual([
      ['orders', true, 'object'],
      ['backup', false, 'string'],
    ]);
    const orders = loaded.jobs[0]!;
    expect(orders.resolved.jobParameter).toBe('0777');
    expect(orders.resolved.props).toEqual({ retries: '3', verbose: 'true' });
    expect(orders.resolved.shardingItemParameters).toBe('0=Beijing,1=Shanghai,2=Guangzhou');
    expect(loaded.jobs[1]!.job).toBe('SCRIPT');
  });

  it('takes jobName from the entry when given, else from the key', async () => {
    const file = await writeJobsFile(`${zookeeperRegistry}jobs:
  a:
    jobName: renamed
    handler: ./handlers.mjs
    cron: 0 * * * * ?
    shardingTotalCount: 1
`);
    const loaded = await loadJobsFile(file);
    expect(loaded.jobs[0]!.jobName).toBe('renamed');
    expect(loaded.jobs[0]!.key).toBe('a');
  });

  it('reads JSON files', async () => {
    const file = await writeJobsFile(
      JSON.stringify({
        registry: { type: 'etcd', endpoints: ['http://127.0.0.1:2379'], namespace: 'shop' },
        jobs: { orders: { handler: './handlers.mjs#simple', cron: '0 * * * * ?', shardingTotalCount: 2 } },
      }),
      'jobs.json',
    );
    const loaded = await loadJobsFile(file);
    expect(loaded.registry).toEqual({
      type: 'etcd',
      endpoints: ['http://127.0.0.1:2379'],
      namespace: 'shop',
    });
    expect(loaded.jobs[0]!.resolved.shardingTotalCount).toBe(2);
  });

  it('reads TLS material from files relative to the jobs file', async () => {
    await writeFile(join(dir, 'ca.pem'), 'CA PEM');
    const file = await writeJobsFile(`registry:
  type: etcd
  endpoints: https://127.0.0.1:2379
  namespace: shop
  tls:
    caFile: ./ca.pem
jobs:
  orders: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1 }
`);
    const loaded = await loadJobsFile(file);
    expect((loaded.registry as { tls?: unknown }).tls).toEqual({ ca: 'CA PEM' });
  });
});

describe('environment references', () => {
  const file = () =>
    writeJobsFile(`registry:
  type: zookeeper
  serverLists: \${ZK_HOSTS}
  namespace: \${NS:-shop}
  digest: \${ZK_USER}:\${ZK_PASSWORD}
jobs:
  orders:
    handler: ./handlers.mjs
    cron: 0 * * * * ?
    shardingTotalCount: 1
    description: costs $\${PRICE}
`);

  it('resolves ${NAME}, ${NAME:-default} and the $${ escape', async () => {
    const loaded = await loadJobsFile(await file(), {
      env: { ZK_HOSTS: 'zk1:2181,zk2:2181', ZK_USER: 'ops', ZK_PASSWORD: 's3cr:et' },
    });
    expect(loaded.registry).toEqual({
      type: 'zookeeper',
      serverLists: 'zk1:2181,zk2:2181',
      namespace: 'shop',
      digest: 'ops:s3cr:et',
    });
    expect(loaded.jobs[0]!.resolved.description).toBe('costs ${PRICE}');
  });

  it('names every unset variable and where it is referenced', async () => {
    const path = await file();
    const { error, issues } = await issuesOf(loadJobsFile(path, { env: { ZK_USER: 'ops' } }));
    expect(issues.map((issue) => issue.path)).toEqual(['registry.serverLists', 'registry.digest']);
    expect(issues[0]!.message).toContain("environment variable 'ZK_HOSTS' is not set");
    expect(issues[1]!.message).toContain("'ZK_PASSWORD'");
    expect(error.message).toContain(path);
    expect(error.file).toBe(path);
  });

  it('defaults to process.env', async () => {
    vi.stubEnv('ZK_HOSTS', 'zk9:2181');
    vi.stubEnv('ZK_USER', 'u');
    vi.stubEnv('ZK_PASSWORD', 'p');
    try {
      const loaded = await loadJobsFile(await file());
      expect((loaded.registry as { serverLists: string }).serverLists).toBe('zk9:2181');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('rejects a malformed reference', async () => {
    const path = await writeJobsFile(`${zookeeperRegistry}jobs:
  orders: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1, jobParameter: "\${1BAD}" }
`);
    const { issues } = await issuesOf(loadJobsFile(path, { env: {} }));
    expect(issues).toEqual([
      {
        path: 'jobs.orders.jobParameter',
        message: expect.stringContaining('malformed environment reference'),
      },
    ]);
  });
});

describe('loadJobsFile: every error names the file and the field', () => {
  const cases: [name: string, text: string, paths: string[], fragment: string][] = [
    ['malformed YAML', 'registry: [\n', [''], 'malformed YAML at line'],
    ['not a map', '- a\n- b\n', [''], 'expected a map'],
    ['missing registry and jobs', 'instanceId: x\n', ['registry', 'jobs'], 'is required'],
    [
      'unknown top-level key',
      `${zookeeperRegistry}jobs: {}\nregistery: x\n`,
      ['jobs', 'registery'],
      'unknown key',
    ],
    ['no jobs', `${zookeeperRegistry}jobs: {}\n`, ['jobs'], 'at least one job'],
    [
      'non-numeric total',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 * * * * ?\n    shardingTotalCount: three\n`,
      ['jobs.orders.shardingTotalCount'],
      'expected an integer from 1',
    ],
    [
      'zero total and a typo',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 * * * * ?\n    shardingTotalCount: 0\n    failovr: true\n`,
      ['jobs.orders.shardingTotalCount', 'jobs.orders.failovr'],
      "did you mean 'failover'",
    ],
    [
      'a structural error does not hide a bad cron or an unknown strategy',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 0 25 * * ?\n    shardingTotalCount: -1\n    jobShardingStrategyType: RANDOM\n`,
      ['jobs.orders.cron', 'jobs.orders.shardingTotalCount', 'jobs.orders.jobShardingStrategyType'],
      'hours',
    ],
    [
      'invalid cron',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 0 25 * * ?\n    shardingTotalCount: 1\n`,
      ['jobs.orders.cron'],
      'hours',
    ],
    [
      'invalid time zone',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 0 1 * * ?\n    timeZone: Mars/Base\n    shardingTotalCount: 1\n`,
      ['jobs.orders.timeZone'],
      'Mars/Base',
    ],
    [
      'unknown sharding strategy',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n    jobShardingStrategyType: RANDOM\n`,
      ['jobs.orders.jobShardingStrategyType'],
      'AVG_ALLOCATION',
    ],
    [
      'unknown error handler and listener',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n    jobErrorHandlerType: PAGER\n    jobListenerTypes: [audit]\n`,
      ['jobs.orders.jobErrorHandlerType', 'jobs.orders.jobListenerTypes'],
      'PAGER',
    ],
    [
      'failover without monitorExecution',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n    failover: true\n    monitorExecution: false\n`,
      ['jobs.orders.failover'],
      'requires monitorExecution',
    ],
    [
      'neither handler nor type',
      `${zookeeperRegistry}jobs:\n  orders:\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n`,
      ['jobs.orders'],
      "either 'handler'",
    ],
    [
      'both handler and type',
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ./handlers.mjs\n    type: SCRIPT\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n`,
      ['jobs.orders.type'],
      'exclude each other',
    ],
    [
      'unknown typed job',
      `${zookeeperRegistry}jobs:\n  orders:\n    type: SQL\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n`,
      ['jobs.orders.type'],
      'SCRIPT, HTTP',
    ],
    [
      'SCRIPT without its command line',
      `${zookeeperRegistry}jobs:\n  orders:\n    type: SCRIPT\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n`,
      ['jobs.orders.props.script.command.line'],
      'script.command.line',
    ],
    [
      'HTTP with a bad method',
      `${zookeeperRegistry}jobs:\n  ping:\n    type: HTTP\n    cron: 0 * * * * ?\n    shardingTotalCount: 1\n    props:\n      http.uri: http://127.0.0.1:1/x\n      http.method: FETCH\n`,
      ['jobs.ping.props.http.method'],
      'FETCH',
    ],
    [
      'duplicate job names',
      `${zookeeperRegistry}jobs:\n  a: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1 }\n  b: { jobName: a, handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1 }\n`,
      ['jobs.b.jobName'],
      'already used by jobs.a',
    ],
    [
      'bad instanceId',
      `${zookeeperRegistry}instanceId: a/b\njobs:\n  a: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1 }\n`,
      ['instanceId'],
      "no '/'",
    ],
    ['a job that is not a map', `${zookeeperRegistry}jobs:\n  a: 5\n`, ['jobs.a'], 'expected a map, got 5'],
  ];

  it.each(cases)('%s', async (_name, text, paths, fragment) => {
    const file = await writeJobsFile(text);
    const { error, issues } = await issuesOf(loadJobsFile(file, { env: {} }));
    expect(issues.map((issue) => issue.path)).toEqual(paths);
    expect(error.message).toContain(`Invalid jobs file '${file}'`);
    expect(error.message).toContain(fragment);
    for (const issue of issues) if (issue.path !== '') expect(error.message).toContain(`${issue.path}: `);
  });

  it('reports problems of several jobs and the registry together', async () => {
    const file = await writeJobsFile(`registry:
  type: zookeeper
  namespace: /bad/
  sessionTimeoutMs: -1
jobs:
  a: { handler: ./handlers.mjs, cron: nope, shardingTotalCount: 1 }
  b: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: -2 }
`);
    const { issues } = await issuesOf(loadJobsFile(file));
    expect(issues.map((issue) => issue.path)).toEqual([
      'registry.serverLists',
      'registry.sessionTimeoutMs',
      'registry.namespace',
      'jobs.a.cron',
      'jobs.b.shardingTotalCount',
    ]);
  });

  it('cannot read a missing file', async () => {
    const missing = join(dir, 'missing.yaml');
    const { error, issues } = await issuesOf(loadJobsFile(missing));
    expect(issues).toEqual([{ path: '', message: 'cannot read the file: no such file' }]);
    expect(error.message).toBe(`Invalid jobs file '${missing}': cannot read the file: no such file`);
  });

  it('checks the registry section per type', async () => {
    const expectations: [string, string[], string][] = [
      ['registry:\n  type: consul\n', ['registry.type'], "unknown registry type 'consul'; accepted: "],
      [
        'registry:\n  type: zookeper\n  serverLists: a:1\n  namespace: s\n',
        ['registry.type'],
        "unknown registry type 'zookeper'; accepted: memory, zookeeper, etcd, redis, or any type with a 'module'",
      ],
      ['registry:\n  serverLists: x\n', ['registry.type'], 'zookeeper, etcd'],
      [
        'registry:\n  type: etcd\n  namespace: s\n  endpoints: []\n',
        ['registry.endpoints'],
        'expected a non-empty list, got []',
      ],
      [
        'registry:\n  type: etcd\n  namespace: s\n  endpoints: {a: 1}\n',
        ['registry.endpoints'],
        'a string or a list',
      ],
      [
        'registry:\n  type: etcd\n  namespace: s\n  endpoints: 127.0.0.1:2379\n',
        ['registry.endpoints'],
        'not a URL',
      ],
      [
        'registry:\n  type: zookeeper\n  serverLists: a:1\n  namespace: s\n  digest: nocolon\n',
        ['registry.digest'],
        'user:password',
      ],
      [
        'registry:\n  type: memory\n  servers: x\n',
        ['registry.servers'],
        'accepted: type, namespace, sessionTimeoutMs',
      ],
      [
        'registry:\n  type: zookeeper\n  serverLists: a:1\n  namespace: s\n  sessionTimeoutMs: "60"\n',
        ['registry.sessionTimeoutMs'],
        'expected a number, got "60"',
      ],
    ];
    for (const [registry, paths, fragment] of expectations) {
      const file = await writeJobsFile(
        `${registry}jobs:\n  a: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1 }\n`,
      );
      const { error, issues } = await issuesOf(loadJobsFile(file));
      expect(
        issues.map((issue) => issue.path),
        registry,
      ).toEqual(paths);
      expect(error.message, registry).toContain(fragment);
    }
  });
});

describe('handlers', () => {
  const fileWithHandler = (handler: string) =>
    writeJobsFile(
      `${zookeeperRegistry}jobs:\n  orders:\n    handler: ${JSON.stringify(handler)}\n    cron: 0 * * * * ?\n    shardingTotalCount: 2\n`,
    );

  it('loads objects, the default export, classes and (async) factories', async () => {
    const jobOf = async (handler: string) =>
      (await loadJobsFile(await fileWithHandler(handler))).jobs[0]!.job as unknown as Record<string, unknown>;
    const module = (await import(join(dir, 'handlers.mjs'))) as Record<string, unknown>;
    expect(await jobOf('./handlers.mjs#simple')).toBe(module.simple);
    expect(await jobOf('./handlers.mjs#dataflow')).toBe(module.dataflow);
    expect(await jobOf('./handlers.mjs')).toBe(module.default);
    const instance = await jobOf('./handlers.mjs#Counter');
    expect(instance).toBeInstanceOf(module.Counter as new () => unknown);
    expect(instance.context).toMatchObject({ jobName: 'orders', file: expect.stringContaining(dir) });
    expect((await jobOf('./handlers.mjs#makeJob')).name).toBe('orders');
    expect((await jobOf('./handlers.mjs#makeLater')).later).toBe(2);
    expect(await jobOf(join(dir, 'handlers.mjs#simple'))).toBe(module.simple);
  });

  it.each([
    ['./handlers.mjs#missing', "has no export 'missing'; its exports: "],
    ['./nowhere.mjs#x', 'cannot import module'],
    ['./broken.mjs', 'cannot import module'],
    ['handlers.mjs#simple', 'is not a file path'],
    ['./handlers.mjs#', 'is incomplete'],
    ['./handlers.mjs#notAJob', 'is number; expected a SimpleJob or DataflowJob object'],
    ['./handlers.mjs#returnsString', 'is a factory function that produced string'],
    ['./handlers.mjs#throws', 'threw while creating the job: factory broke'],
    ['./handlers.mjs#both', 'implements both SimpleJob'],
    ['./handlers.mjs#emptyObject', 'expected a SimpleJob'],
  ])('%s fails naming jobs.orders.handler', async (handler, fragment) => {
    const { issues } = await issuesOf(loadJobsFile(await fileWithHandler(handler)));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('jobs.orders.handler');
    expect(issues[0]!.message).toContain(fragment);
  });
});

describe('loadRegistryConfigurationFile', () => {
  it('reads only the registry section, resolving references', async () => {
    const file = await writeJobsFile(
      'registry:\n  type: etcd\n  endpoints: http://127.0.0.1:2379\n  namespace: shop\n  password: ${PW}\n  username: root\njobs:\n  bad: 1\n',
    );
    expect(await loadRegistryConfigurationFile(file, { env: { PW: 'pw' } })).toEqual({
      type: 'etcd',
      endpoints: 'http://127.0.0.1:2379',
      namespace: 'shop',
      username: 'root',
      password: 'pw',
    });
    const { issues } = await issuesOf(loadRegistryConfigurationFile(file, { env: {} }));
    expect(issues.map((issue) => issue.path)).toEqual(['registry.password']);
  });
});

describe('runJobsFromConfig / runJobsFromFile on the memory registry', () => {
  it('starts cron and one-off jobs, runs them, and shuts everything down', async () => {
    const server = new MemoryRegistryServer();
    const runs: number[] = [];
    const job = { execute: (context: { shardingItem: number }) => void runs.push(context.shardingItem) };
    const running = await runJobsFromConfig(
      {
        registry: { type: 'memory', namespace: 'config-file' },
        instanceId: 'only',
        jobs: {
          everySecond: { handler: job, cron: '* * * * * ?', shardingTotalCount: 2 },
          onDemand: { handler: { execute() {} }, shardingTotalCount: 1 },
        },
      },
      { registryOverrides: { server }, logger: silentLogger },
    );
    try {
      expect([...running.bootstraps.keys()]).toEqual(['everySecond', 'onDemand']);
      expect(running.bootstraps.get('everySecond')).toBeInstanceOf(ScheduleJobBootstrap);
      expect(running.bootstraps.get('onDemand')).toBeInstanceOf(OneOffJobBootstrap);
      expect(running.bootstraps.get('everySecond')!.instance.jobInstanceId).toBe('only');
      await vi.waitFor(() => expect(new Set(runs)).toEqual(new Set([0, 1])), { timeout: 5000 });
      expect(await running.registry.getChildrenKeys('/onDemand/instances')).toEqual(['only']);
    } finally {
      await running.shutdown();
      await running.shutdown();
    }
    const observer = new MemoryRegistryCenter({ server, namespace: 'config-file' });
    await observer.start();
    try {
      expect(await observer.getChildrenKeys('/everySecond/instances')).toEqual([]);
    } finally {
      await observer.close();
    }
  });

  it('does not modify the configuration object and keeps handler objects as given', async () => {
    const job = { marker: '${NOT_SUBSTITUTED}', execute() {} };
    const configuration = {
      registry: { type: 'memory', namespace: '${NS}' },
      jobs: { a: { handler: job, cron: '0 0 0 * * ?', shardingTotalCount: 1 } },
    };
    const loaded = await loadJobsConfig(configuration, { env: { NS: 'ns1' } });
    expect(loaded.file).toBeUndefined();
    expect(loaded.registry).toEqual({ type: 'memory', namespace: 'ns1' });
    expect(loaded.jobs[0]!.job).toBe(job);
    expect(job.marker).toBe('${NOT_SUBSTITUTED}');
    expect(configuration.registry.namespace).toBe('${NS}');
  });

  it('rejects an invalid configuration object before connecting, without a file name', async () => {
    const { error, issues } = await issuesOf(
      runJobsFromConfig({ registry: { type: 'memory' }, jobs: { a: { handler: 5, shardingTotalCount: 1 } } }),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['jobs.a.handler']);
    expect(error.message).toMatch(/^Invalid jobs configuration: jobs\.a\.handler: /);
  });

  it('runs a file whose handler writes to a file', async () => {
    const out = join(dir, 'runs.log');
    await writeFile(
      join(dir, 'writer.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport default (context) => ({ execute(sharding) { appendFileSync(${JSON.stringify(out)}, context.jobName + ':' + sharding.shardingItem + '\\n'); } });\n`,
    );
    const file = await writeJobsFile(
      'registry:\n  type: memory\n  namespace: from-file\njobs:\n  writer:\n    handler: ./writer.mjs\n    cron: "* * * * * ?"\n    shardingTotalCount: 1\n',
    );
    const running = await runJobsFromFile(file, {
      registryOverrides: { server: new MemoryRegistryServer() },
      logger: silentLogger,
    });
    try {
      await vi.waitFor(
        async () => expect(await readFile(out, 'utf8').catch(() => '')).toContain('writer:0\n'),
        {
          timeout: 5000,
        },
      );
    } finally {
      await running.shutdown();
    }
  });
});

describe('tracing and monitoring sections', () => {
  const job = 'jobs:\n  a: { handler: ./handlers.mjs, cron: 0 * * * * ?, shardingTotalCount: 1 }\n';

  it('resolves a relative SQLite path from the file, environment references, and keeps string fields as written', async () => {
    const file = await writeJobsFile(`${zookeeperRegistry}${job}tracing:
  url: sqlite:./history.db
  maxConnections: 2
  retention: { maxAgeMs: 604800000, maxRows: 1000, batchSize: 100, intervalMs: 60000 }
  writer: { maxQueuedEvents: 50, maxBatchSize: 10, flushIntervalMs: 20, retryInitialDelayMs: 5, retryMaxDelayMs: 50, dropWarningIntervalMs: 1000 }
monitoring:
  port: 0
  host: 0.0.0.0
  bearerToken: 123456
`);
    const loaded = await loadJobsFile(file, { env: {} });
    expect(loaded.tracing).toEqual({
      url: `sqlite:${join(dir, 'history.db')}`,
      maxConnections: 2,
      retention: { maxAgeMs: 604_800_000, maxRows: 1000, batchSize: 100, intervalMs: 60_000 },
      writer: {
        maxQueuedEvents: 50,
        maxBatchSize: 10,
        flushIntervalMs: 20,
        retryInitialDelayMs: 5,
        retryMaxDelayMs: 50,
        dropWarningIntervalMs: 1000,
      },
    });
    expect(loaded.monitoring).toEqual({ port: 0, host: '0.0.0.0', bearerToken: '123456' });

    const postgres = await loadJobsConfig(
      {
        registry: { type: 'memory' },
        jobs: { a: { handler: { execute() {} }, shardingTotalCount: 1 } },
        tracing: { url: 'postgres://app:${PGPASSWORD}@db.example:5432/history' },
        monitoring: {},
      },
      { env: { PGPASSWORD: 'pa:ss' } },
    );
    expect(postgres.tracing).toEqual({ url: 'postgres://app:pa:ss@db.example:5432/history' });
    expect(postgres.monitoring).toEqual({});
    const memory = await loadJobsConfig(
      {
        registry: { type: 'memory' },
        jobs: { a: { handler: { execute() {} }, shardingTotalCount: 1 } },
        tracing: { url: 'sqlite::memory:' },
      },
      { baseDir: dir },
    );
    expect(memory.tracing).toEqual({ url: 'sqlite::memory:' });
    expect(memory.monitoring).toBeUndefined();
  });

  const cases: [name: string, text: string, paths: string[], fragments: string[]][] = [
    [
      'an unknown URL scheme',
      'tracing:\n  url: mysql://db/history\n',
      ['tracing.url'],
      ["unknown scheme 'mysql'", "Accepted: 'sqlite:<file>'"],
    ],
    ['no URL', 'tracing:\n  retention: { maxRows: 10 }\n', ['tracing.url'], ['is required']],
    [
      'not a map',
      'tracing: sqlite:./history.db\nmonitoring: [9464]\n',
      ['tracing', 'monitoring'],
      ['expected a map'],
    ],
    [
      'a port out of range',
      'monitoring:\n  port: 70000\n',
      ['monitoring.port'],
      ['expected value <= 65535, got 70000'],
    ],
    ['a port as text', 'monitoring:\n  port: nine\n', ['monitoring.port'], ['expected a number, got "nine"']],
    [
      'unknown keys at every level',
      'tracing:\n  url: sqlite:./h.db\n  retension: { maxRows: 1 }\n  writer: { queueSize: 5 }\nmonitoring:\n  path: /metrics\n',
      ['tracing.writer.queueSize', 'tracing.retension', 'monitoring.path'],
      [
        'accepted: url, maxConnections, connectTimeoutMs, statementTimeoutMs, retention, writer',
        'accepted: maxQueuedEvents, maxBatchSize, flushIntervalMs',
        'accepted: port, host, bearerToken',
      ],
    ],
    [
      'a bad URL and a retention without a bound together',
      'tracing:\n  url: "sqlite:"\n  retention: {}\n',
      ['tracing.url', 'tracing.retention'],
      ['no file after sqlite:', 'maxAgeMs and/or maxRows'],
    ],
    [
      'a retention without a bound',
      'tracing:\n  url: sqlite:./h.db\n  retention: { batchSize: 10 }\n',
      ['tracing.retention'],
      ['maxAgeMs and/or maxRows'],
    ],
    [
      'a retention bound that is not a positive integer',
      'tracing:\n  url: sqlite:./h.db\n  retention: { maxAgeMs: 0, maxRows: 1.5 }\n',
      ['tracing.retention.maxAgeMs', 'tracing.retention.maxRows'],
      ['expected value >= 1, got 0', 'expected an integer, got 1.5'],
    ],
    [
      'a non-loopback host without a token',
      'monitoring:\n  host: 0.0.0.0\n',
      ['monitoring.host'],
      ["host '0.0.0.0' is not a loopback address: set bearerToken"],
    ],
    [
      'an unset variable in the URL, reported once',
      'tracing:\n  url: postgres://app:${PGPASSWORD}@db/history\n',
      ['tracing.url'],
      ["environment variable 'PGPASSWORD' is not set"],
    ],
    [
      'problems in both sections and a job together',
      'tracing:\n  url: http://db/history\nmonitoring:\n  port: -1\n  host: ""\njobs:\n  a: { handler: ./handlers.mjs, cron: nope, shardingTotalCount: 1 }\n',
      ['monitoring.port', 'monitoring.host', 'tracing.url', 'jobs.a.cron'],
      ['expected value >= 0, got -1', 'expected a non-empty string', "unknown scheme 'http'"],
    ],
  ];

  it.each(cases)(
    'lists %s with its path and the accepted values',
    async (_name, section, paths, fragments) => {
      const text = section.includes('jobs:')
        ? `${zookeeperRegistry}${section}`
        : `${zookeeperRegistry}${job}${section}`;
      const { error, issues } = await issuesOf(loadJobsFile(await writeJobsFile(text), { env: {} }));
      expect(issues.map((issue) => issue.path)).toEqual(paths);
      for (const fragment of fragments) expect(error.message).toContain(fragment);
    },
  );

  it('checks the URL once the shape of both sections is right', async () => {
    const { issues } = await issuesOf(
      loadJobsConfig({
        registry: { type: 'memory' },
        jobs: { a: { handler: { execute() {} }, shardingTotalCount: 1 } },
        tracing: { url: 'ftp://db/history' },
        monitoring: { host: '10.1.2.3' },
      }),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['tracing.url', 'monitoring.host']);
  });

  it('names the package to install when the tracing package is missing, and a package that fails to load fails the load', async () => {
    const missing = Object.assign(new Error(`Cannot find package '${TRACING_PACKAGE}'`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const issues: JobsFileIssue[] = [];
    const sections = await validateObservabilitySections({ monitoring: { port: 9464 } }, dir, issues, () =>
      Promise.reject(missing),
    );
    expect(sections).toEqual({});
    expect(issues).toEqual([
      {
        path: 'monitoring',
        message: `needs the ${TRACING_PACKAGE} package (event tracing and metrics), which is not installed: npm install ${TRACING_PACKAGE}`,
      },
    ]);
    const broken = new Error('syntax error in module');
    await expect(
      validateObservabilitySections({ tracing: { url: 'sqlite::memory:' } }, dir, [], () =>
        Promise.reject(broken),
      ),
    ).rejects.toBe(broken);
    expect(await validateObservabilitySections({}, dir, [], () => Promise.reject(broken))).toEqual({});
  });
});
