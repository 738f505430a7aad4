/**
 * The `elasticjob` CLI end to end, one body parameterised by registry backend: the CLI runs as a
 * subprocess (`node core/dist/cli/main.js`, so `npm run build` first) against a real ZooKeeper or
 * etcd server, while two job instances run in this process. Conditions are polled on the registry
 * with `vi.waitFor`; nothing waits a fixed time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CoordinatorRegistryCenter,
  type ResolvedJobConfiguration,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
} from '@elasticjob-ts/core';
import { findFreePort } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cliOperatorsTests } from './cli-operators.behaviour.js';

/** What differs between backends. */
export interface CliBackend {
  readonly name: 'zookeeper' | 'etcd';
  /** Starts a real server; returns how to reach it. */
  startServer(): Promise<CliServer>;
}

/** A running registry server. */
export interface CliServer {
  /** The CLI's registry URL for a namespace, e.g. `zookeeper://127.0.0.1:40123/ns`. */
  url(namespace: string): string;
  /** A URL of this backend that nothing listens on. */
  unreachableUrl(namespace: string, port: number): string;
  /** The `registry:` section of a jobs file, as YAML lines. */
  registryYaml(namespace: string): string;
  /** A started client of the namespace (for job instances and observation). */
  createClient(namespace: string): Promise<CoordinatorRegistryCenter>;
  stop(): Promise<void>;
}

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** The built CLI entry point (`core/dist/cli/main.js`). */
export const MAIN = fileURLToPath(new URL('../../core/dist/cli/main.js', import.meta.url));
/** A cron that never fires during a test run (year 2099), so every run comes from a trigger. */
const NEVER = '0 0 0 1 1 ? 2099';
const WAIT = { timeout: 15_000, interval: 100 } as const;
const ITEMS = [0, 1, 2, 3];
const IP_A = '10.0.0.1';
const IP_B = '10.0.0.2';

function startCli(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ELASTICJOB_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): Promise<CliResult> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, durationMs: Date.now() - started }));
  });
}

/** Runs the CLI to completion (asynchronously: the job instances in this process keep running). */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return collect(startCli(args, env));
}

/**
 * Registers the CLI scenarios for one backend.
 *
 * @param backend - name and server factory.
 */
export function cliBehaviourSuite(backend: CliBackend): void {
  // Each CLI call is a process start plus a registry connection: allow for slow machines.
  describe(`elasticjob CLI on ${backend.name}`, { timeout: 60_000 }, () => {
    const namespace = `cli-${backend.name}-${process.pid}`;
    let server: CliServer;
    let observer: CoordinatorRegistryCenter;
    const clients: CoordinatorRegistryCenter[] = [];
    const bootstraps = new Map<string, ScheduleJobBootstrap>();
    const runs = new Map<string, number[]>([
      ['a', []],
      ['b', []],
    ]);
    let url: string;
    let dir: string;
    const run = (args: readonly string[], env?: Record<string, string>) =>
      cli([...args, '--registry', url], env);

    const owners = async (): Promise<(string | undefined)[]> =>
      Promise.all(ITEMS.map((item) => observer.getDirectly(`/orders/sharding/${item}/instance`)));

    beforeAll(async () => {
      if (!existsSync(MAIN)) {
        throw new Error(
          `${MAIN} is missing: build first (npx turbo run build --filter=@elasticjob-ts/core...)`,
        );
      }
      dir = await mkdtemp(join(tmpdir(), `ej-cli-${backend.name}-`));
      server = await backend.startServer();
      url = server.url(namespace);
      observer = await server.createClient(namespace);
      for (const [instanceId, serverIp] of [
        ['a', IP_A],
        ['b', IP_B],
      ] as const) {
        const client = await server.createClient(namespace);
        clients.push(client);
        const bootstrap = new ScheduleJobBootstrap(
          client,
          { execute: (context: ShardingContext) => void runs.get(instanceId)!.push(context.shardingItem) },
          {
            jobName: 'orders',
            cron: NEVER,
            shardingTotalCount: ITEMS.length,
            description: 'order sync',
            jobParameter: 'p',
          },
          { instanceId, serverIp, logger: silentLogger },
        );
        bootstraps.set(instanceId, bootstrap);
        await bootstrap.schedule();
      }
      // Both instances registered and the items shared out between them.
      await vi.waitFor(async () => expect(new Set(await owners())).toEqual(new Set(['a', 'b'])), WAIT);
    }, 60_000);

    afterAll(async () => {
      for (const bootstrap of bootstraps.values()) await bootstrap.shutdown();
      for (const client of clients) await client.close();
      await observer?.close();
      await server?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    it('jobs: lists the job as a table and as JSON', async () => {
      const table = await run(['jobs']);
      expect(table.stderr).toBe('');
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+STATUS\s+CRON\s+INSTANCES\s+TOTAL\s+DESCRIPTION$/);
      expect(lines[1]!.split(/\s{2,}/)).toEqual(['orders', 'OK', NEVER, '2', '4', 'order sync']);

      const json = await cli(['jobs', '--json'], { ELASTICJOB_REGISTRY: url });
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual([
        {
          jobName: 'orders',
          status: 'OK',
          description: 'order sync',
          cron: NEVER,
          instanceCount: 2,
          shardingTotalCount: 4,
        },
      ]);
    });

    it('job <name>: configuration, servers and sharding', async () => {
      const text = await run(['job', 'orders']);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('Job orders: OK, 2 instances, 4 items');
      expect(text.stdout).toMatch(/^ {2}cron: +0 0 0 1 1 \? 2099$/m);
      expect(text.stdout).toMatch(new RegExp(`^${IP_A.replaceAll('.', '\\.')}\\s+ENABLED\\s+a$`, 'm'));
      expect(text.stdout).toMatch(/^ITEM\s+STATUS\s+INSTANCE\s+SERVER\s+FAILOVER$/m);

      const json = await run(['job', 'orders', '--json']);
      expect(json.code).toBe(0);
      const shown = JSON.parse(json.stdout) as {
        job: { status: string };
        configuration: ResolvedJobConfiguration;
        servers: { serverIp: string; status: string; instances: string[] }[];
        instances: { instanceId: string; serverIp: string }[];
        sharding: { item: number; instanceId: string; serverIp: string; status: string; failover: null }[];
      };
      expect(shown.job.status).toBe('OK');
      expect(shown.configuration).toMatchObject({
        jobName: 'orders',
        shardingTotalCount: 4,
        jobParameter: 'p',
      });
      expect(shown.servers).toEqual([
        { serverIp: IP_A, status: 'ENABLED', instances: ['a'] },
        { serverIp: IP_B, status: 'ENABLED', instances: ['b'] },
      ]);
      expect(shown.instances).toEqual([
        { instanceId: 'a', serverIp: IP_A },
        { instanceId: 'b', serverIp: IP_B },
      ]);
      expect(shown.sharding.map((item) => item.item)).toEqual(ITEMS);
      expect(shown.sharding.map((item) => item.instanceId)).toEqual(await owners());
      for (const item of shown.sharding) {
        expect(item).toMatchObject({ status: 'PENDING', failover: null });
        expect(item.serverIp).toBe(item.instanceId === 'a' ? IP_A : IP_B);
      }
    });

    it('servers: both IPs with their instance and job', async () => {
      const result = await run(['servers', '--json']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual([
        {
          serverIp: IP_A,
          instances: ['a'],
          jobNames: ['orders'],
          instancesNum: 1,
          jobsNum: 1,
          disabledJobsNum: 0,
        },
        {
          serverIp: IP_B,
          instances: ['b'],
          jobNames: ['orders'],
          instancesNum: 1,
          jobsNum: 1,
          disabledJobsNum: 0,
        },
      ]);
      const table = await run(['servers']);
      expect(table.stdout.split('\n')[0]).toMatch(/^SERVER\s+INSTANCES\s+JOBS\s+DISABLED JOBS\s+JOB NAMES$/);
    });

    it('disable --server moves its items to the other instance; enable brings them back', async () => {
      const disabled = await run(['disable', 'orders', '--server', IP_B]);
      expect(disabled.stderr).toBe('');
      expect(disabled.code).toBe(0);
      expect(disabled.stdout).toBe(`Disabled job 'orders' on 1 server: ${IP_B}\n`);
      expect(await observer.getDirectly(`/orders/servers/${IP_B}`)).toBe('DISABLED');
      await vi.waitFor(async () => expect(await owners()).toEqual(['a', 'a', 'a', 'a']), WAIT);

      const enabled = await run(['enable', 'orders', '--server', IP_B, '--json']);
      expect(enabled.code).toBe(0);
      expect(JSON.parse(enabled.stdout)).toEqual({ jobName: 'orders', servers: [IP_B], status: 'ENABLED' });
      await vi.waitFor(async () => expect(new Set(await owners())).toEqual(new Set(['a', 'b'])), WAIT);
    });

    it('trigger: every instance runs its own items once', async () => {
      for (const list of runs.values()) list.length = 0;
      const assignment = await owners();
      const result = await run(['trigger', 'orders']);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("Triggered job 'orders' on 2 instances: b, a\n");
      const expected = (instance: string) => ITEMS.filter((item) => assignment[item] === instance);
      await vi.waitFor(() => {
        expect([...runs.get('a')!].sort()).toEqual(expected('a'));
        expect([...runs.get('b')!].sort()).toEqual(expected('b'));
      }, WAIT);
      // The trigger nodes are consumed, so nothing runs again.
      await vi.waitFor(
        async () => expect(await observer.getChildrenKeys('/orders/trigger')).toEqual([]),
        WAIT,
      );
      expect(runs.get('a')!.length + runs.get('b')!.length).toBe(ITEMS.length);
    });

    it('disable --item keeps the item out of runs until enabled', async () => {
      const disabled = await run(['disable', 'orders', '--item', '1']);
      expect(disabled.code).toBe(0);
      expect(disabled.stdout).toBe("Disabled item 1 of job 'orders'\n");
      expect(await observer.isExisted('/orders/sharding/1/disabled')).toBe(true);
      const shown = JSON.parse((await run(['job', 'orders', '--json'])).stdout) as {
        sharding: { status: string }[];
      };
      expect(shown.sharding[1]!.status).toBe('DISABLED');

      for (const list of runs.values()) list.length = 0;
      expect((await run(['trigger', 'orders'])).code).toBe(0);
      await vi.waitFor(() => expect([...runs.get('a')!, ...runs.get('b')!].sort()).toEqual([0, 2, 3]), WAIT);
      await vi.waitFor(
        async () => expect(await observer.getChildrenKeys('/orders/trigger')).toEqual([]),
        WAIT,
      );
      expect([...runs.get('a')!, ...runs.get('b')!].sort()).toEqual([0, 2, 3]);

      const enabled = await run(['enable', 'orders', '--item', '1']);
      expect(enabled.code).toBe(0);
      expect(await observer.isExisted('/orders/sharding/1/disabled')).toBe(false);
      const both = await run(['disable', 'orders', '--item', '1', '--server', IP_A]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--item and --server exclude each other');
    });

    it('config get / set: a new cron reschedules the running instances', async () => {
      const yaml = await run(['config', 'get', 'orders']);
      expect(yaml.code).toBe(0);
      expect(yaml.stdout).toContain('shardingTotalCount: 4\n');
      expect((await run(['config', 'get', 'orders', 'cron'])).stdout).toBe(`${NEVER}\n`);
      expect(
        JSON.parse((await run(['config', 'get', 'orders', 'shardingTotalCount', '--json'])).stdout),
      ).toEqual({
        jobName: 'orders',
        field: 'shardingTotalCount',
        value: 4,
      });

      for (const list of runs.values()) list.length = 0;
      const set = await run(['config', 'set', 'orders', 'cron', '* * * * * ?']);
      expect(set.stderr).toBe('');
      expect(set.code).toBe(0);
      expect(set.stdout).toBe(`Set cron of job 'orders' to "* * * * * ?" (was "${NEVER}")\n`);
      // Both instances pick the new cron up and fire every second, without any trigger.
      await vi.waitFor(() => {
        for (const bootstrap of bootstraps.values()) expect(bootstrap.configuration.cron).toBe('* * * * * ?');
        expect(new Set([...runs.get('a')!, ...runs.get('b')!])).toEqual(new Set(ITEMS));
      }, WAIT);

      const back = await run(['config', 'set', 'orders', 'cron', NEVER, '--json']);
      expect(JSON.parse(back.stdout)).toEqual({
        jobName: 'orders',
        field: 'cron',
        value: NEVER,
        previous: '* * * * * ?',
      });
      await vi.waitFor(() => {
        for (const bootstrap of bootstraps.values()) expect(bootstrap.configuration.cron).toBe(NEVER);
      }, WAIT);
      expect((await run(['config', 'set', 'orders', 'props.region', 'eu'])).code).toBe(0);
      expect((await run(['config', 'get', 'orders', 'props.region'])).stdout).toBe('eu\n');
      // A map prints as YAML (it printed '[object Object]').
      expect((await run(['config', 'get', 'orders', 'props'])).stdout).toMatch(/^region: eu$/m);
    });

    it('config set rejects bad values with exit code 2, naming the field and the accepted values', async () => {
      const before = await observer.getDirectly('/orders/config');
      const total = await run(['config', 'set', 'orders', 'shardingTotalCount', 'abc']);
      expect(total.code).toBe(2);
      expect(total.stdout).toBe('');
      expect(total.stderr).toBe(
        'elasticjob: Invalid value "abc" for shardingTotalCount: expected an integer from 1 to 2147483647\n',
      );
      const zero = await run(['config', 'set', 'orders', 'shardingTotalCount', '0']);
      expect(zero.code).toBe(2);
      expect(zero.stderr).toContain('Invalid value "0" for shardingTotalCount of job \'orders\'');
      expect(zero.stderr).toContain('expected an integer from 1 to 2147483647');
      const cron = await run(['config', 'set', 'orders', 'cron', '0 0 25 * * ?']);
      expect(cron.code).toBe(2);
      expect(cron.stderr).toMatch(/Invalid value "0 0 25 \* \* \?" for cron of job 'orders': .*hours/);
      const flag = await run(['config', 'set', 'orders', 'failover', 'yes']);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain('Invalid value "yes" for failover: expected true or false');
      const field = await run(['config', 'set', 'orders', 'shardingCount', '3']);
      expect(field.code).toBe(2);
      expect(field.stderr).toContain(
        "Cannot set 'shardingCount': it is not a job configuration field; settable: cron,",
      );
      expect(await observer.getDirectly('/orders/config')).toBe(before);
    });

    it('dump: every node of the job as path | value lines', async () => {
      const result = await run(['dump', 'orders']);
      expect(result.code).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines).toContain(`/orders/servers/${IP_A} | ENABLED`);
      expect(lines.some((line) => line.startsWith('/orders/config | '))).toBe(true);
      expect(lines.some((line) => line.startsWith('/orders/instances/a | '))).toBe(true);
      expect(lines).toContain(`/orders/sharding/0/instance | ${(await owners())[0]}`);
      const masked = await run(['dump', 'orders', '--mask-ips']);
      expect(masked.stdout).not.toContain(IP_A);
    });

    it('rejects bad input with exit codes and messages naming the thing at fault', async () => {
      const malformed = await cli(['jobs', '--registry', 'zookeeper:/127.0.0.1:2181']);
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain("Invalid registry URL 'zookeeper:/127.0.0.1:2181'");
      expect(malformed.stderr).toContain('accepted: zookeeper://host:2181');
      const noNamespace = await cli(['jobs', '--registry', url.replace(`/${namespace}`, '')]);
      expect(noNamespace.code).toBe(2);
      expect(noNamespace.stderr).toContain('no namespace given');
      const memory = await cli(['jobs', '--registry', 'memory://shop']);
      expect(memory.code).toBe(2);
      expect(memory.stderr).toContain('cannot reach the jobs of another process');

      const unknown = await run(['job', 'ordres']);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toBe(
        `elasticjob: Job 'ordres' not found in namespace '${namespace}'; known jobs: orders\n`,
      );
      expect((await run(['trigger', 'nope'])).code).toBe(3);
      expect((await run(['config', 'set', 'nope', 'cron', '* * * * * ?'])).code).toBe(3);

      const usage = await run(['disable']);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain("missing required argument 'job'");
      const item = await run(['disable', 'orders', '--item', 'x']);
      expect(item.code).toBe(2);
      expect(item.stderr).toContain('Invalid --item "x"');

      const port = await findFreePort();
      const unreachable = await cli([
        'jobs',
        '--registry',
        server.unreachableUrl(namespace, port),
        '--timeout-ms',
        '1000',
      ]);
      expect(unreachable.code).toBe(4);
      expect(unreachable.stderr).toContain('Registry unreachable');
      expect(unreachable.stderr).toContain(String(port));
      expect(unreachable.durationMs).toBeLessThan(8_000);

      const help = await cli(['config', 'set', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: elasticjob config set [options] <job> <field> <value>');
    });

    cliOperatorsTests({
      run,
      observer: () => observer,
      dir: () => dir,
      namespace: () => namespace,
    });

    it('shutdown stops the instances on a server (items move); remove deletes the server node', async () => {
      const shutdown = await run(['shutdown', 'orders', '--server', IP_B, '--json']);
      expect(shutdown.code).toBe(0);
      expect(JSON.parse(shutdown.stdout)).toEqual({
        jobName: 'orders',
        instances: [{ jobName: 'orders', instanceId: 'b', serverIp: IP_B, delivery: 'SHUTDOWN_COMMAND' }],
      });
      // Instance b stops (its instance node goes, the command is acknowledged); its items move to a.
      await vi.waitFor(async () => {
        expect(await observer.getChildrenKeys('/orders/instances')).toEqual(['a']);
        expect(await observer.getChildrenKeys('/orders/shutdown')).toEqual([]);
        expect(await owners()).toEqual(['a', 'a', 'a', 'a']);
      }, WAIT);
      const listed = JSON.parse((await run(['jobs', '--json'])).stdout) as { instanceCount: number }[];
      expect(listed[0]!.instanceCount).toBe(1);

      const removed = await run(['remove', 'orders', '--server', IP_B]);
      expect(removed.code).toBe(0);
      expect(removed.stdout).toMatch(
        new RegExp(`^Removed job 'orders' from 1 server: ${IP_B.replaceAll('.', '\\.')}; `),
      );
      expect(await observer.isExisted(`/orders/servers/${IP_B}`)).toBe(false);
      expect(await observer.isExisted(`/orders/servers/${IP_A}`)).toBe(true);
    });

    it('run <file>: starts the jobs of a file; SIGTERM shuts them down and exits 0', async () => {
      const out = join(dir, 'runs.log');
      await writeFile(
        join(dir, 'handler.mjs'),
        `import { appendFileSync } from 'node:fs';\n` +
          `export default { execute(context) { appendFileSync(${JSON.stringify(out)}, context.jobName + ':' + context.shardingItem + '\\n'); } };\n`,
      );
      const file = join(dir, 'elasticjob.yaml');
      await writeFile(
        file,
        `${server.registryYaml(`${namespace}-run`)}instanceId: from-file\n` +
          'jobs:\n  filejob:\n    handler: ./handler.mjs\n    cron: "* * * * * ?"\n    shardingTotalCount: 2\n',
      );
      const fileObserver = await server.createClient(`${namespace}-run`);
      try {
        // ELASTICJOB_LOG_LEVEL unset: `run` logs its jobs at info (embedded, the default is warn).
        const child = startCli(['run', file], { ELASTICJOB_LOG_LEVEL: '' });
        const result = collect(child);
        await vi.waitFor(async () => {
          const text = await readFile(out, 'utf8').catch(() => '');
          expect(text).toContain('filejob:0\n');
          expect(text).toContain('filejob:1\n');
        }, WAIT);
        expect(await fileObserver.getChildrenKeys('/filejob/instances')).toEqual(['from-file']);
        // The file's registry is an operable registry for the CLI too.
        const listed = await cli(['jobs', '--json', '--registry', file]);
        expect(listed.code).toBe(0);
        expect(JSON.parse(listed.stdout)).toMatchObject([{ jobName: 'filejob', instanceCount: 1 }]);

        child.kill('SIGTERM');
        const finished = await result;
        const logLines = finished.stderr.split('\n').filter((line) => line !== '');
        expect(logLines.length).toBeGreaterThan(0);
        for (const line of logLines) expect(JSON.parse(line)).toMatchObject({ name: 'elasticjob' });
        expect(logLines.some((line) => JSON.parse(line).level === 30)).toBe(true);
        expect(finished.code).toBe(0);
        expect(finished.stdout).toBe(
          `elasticjob: running 1 job from ${file}: filejob\nelasticjob: SIGTERM received, shutting the jobs down\nelasticjob: stopped\n`,
        );
        await vi.waitFor(
          async () => expect(await fileObserver.getChildrenKeys('/filejob/instances')).toEqual([]),
          WAIT,
        );
      } finally {
        await fileObserver.close();
      }
    }, 40_000);

    it('run <file>: a closed standard output (run ... | head) shuts the jobs down gracefully and exits 0', async () => {
      await writeFile(
        join(dir, 'chatty.mjs'),
        'export default { execute(context) { console.log(`ran ${context.jobName}:${context.shardingItem}`); } };\n',
      );
      const file = join(dir, 'chatty.yaml');
      await writeFile(
        file,
        `${server.registryYaml(`${namespace}-pipe`)}instanceId: piped\n` +
          'jobs:\n  chatty:\n    handler: ./chatty.mjs\n    cron: "* * * * * ?"\n    shardingTotalCount: 1\n',
      );
      const child = startCli(['run', file], { ELASTICJOB_LOG_LEVEL: '' });
      const result = collect(child);
      // Read the first line, then go away as `head -1` would.
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      child.stdout!.destroy();
      const finished = await result;
      expect(finished.stderr).not.toMatch(/Error: write EPIPE|\n\s+at /);
      expect(finished.code).toBe(0);
      const messages = finished.stderr
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { msg?: string }).msg);
      expect(messages).toContain('job shut down');
    }, 40_000);

    it('run <file>: an invalid file exits 2 naming the file and the field; nothing starts', async () => {
      const file = join(dir, 'bad.yaml');
      await writeFile(
        file,
        `${server.registryYaml(`${namespace}-bad`)}jobs:\n  orders:\n    type: SCRIPT\n    cron: "* * * * * ?"\n    shardingTotalCount: many\n`,
      );
      const result = await cli(['run', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`Invalid jobs file '${file}'`);
      expect(result.stderr).toContain(
        'jobs.orders.shardingTotalCount: shardingTotalCount = "many" is invalid',
      );
      expect(await observer.isExisted('/orders/config')).toBe(true);
      const badObserver = await server.createClient(`${namespace}-bad`);
      try {
        expect(await badObserver.getChildrenKeys('/')).toEqual([]);
      } finally {
        await badObserver.close();
      }
    });
  });
}
