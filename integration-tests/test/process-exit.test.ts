/**
 * Deterministic teardown (DESIGN §4 item 11): after `shutdown()` and `close()` no timer, socket or
 * watch keeps the process alive, on every registry.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type EtcdTestServer,
  startEtcdServer,
  startZookeeperServer,
  type ZookeeperTestServer,
} from '@elasticjob-ts/registry-conformance/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../dist/fixtures/exit-after-shutdown.js', import.meta.url));
const EXIT_BOUND_MS = 5000;

/** Runs the child; resolves with its exit code and how long it lived after printing CLOSED. */
function runChild(
  configuration: object,
  options: { defaultLogger?: boolean; env?: Record<string, string> } = {},
): Promise<{ code: number | null; lingerMs: number; output: string }> {
  return new Promise((resolve, reject) => {
    const args = [child, JSON.stringify(configuration), ...(options.defaultLogger ? ['default-logger'] : [])];
    const env = { ...process.env, ...options.env };
    delete env.ELASTICJOB_LOG_LEVEL;
    if (options.env?.ELASTICJOB_LOG_LEVEL !== undefined)
      env.ELASTICJOB_LOG_LEVEL = options.env.ELASTICJOB_LOG_LEVEL;
    const process_ = spawn(process.execPath, args, { stdio: 'pipe', env });
    let output = '';
    let closedAt: number | undefined;
    const killer = setTimeout(() => process_.kill('SIGKILL'), 60_000);
    process_.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (closedAt === undefined && output.includes('CLOSED')) closedAt = Date.now();
    });
    process_.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    process_.on('error', reject);
    process_.on('exit', (code) => {
      clearTimeout(killer);
      resolve({
        code,
        lingerMs: closedAt === undefined ? Number.POSITIVE_INFINITY : Date.now() - closedAt,
        output,
      });
    });
  });
}

describe('the process exits by itself after shutdown() and close()', () => {
  let zookeeper: ZookeeperTestServer;
  let etcd: EtcdTestServer;
  beforeAll(async () => {
    [zookeeper, etcd] = await Promise.all([startZookeeperServer(), startEtcdServer()]);
  });
  afterAll(async () => {
    await Promise.all([zookeeper?.stop(), etcd?.stop()]);
  });

  const registries = [
    ['the memory registry', () => ({ type: 'memory', namespace: 'exit' })],
    [
      'ZooKeeper',
      () => ({
        type: 'zookeeper',
        serverLists: zookeeper.connectString,
        namespace: 'exit',
        sessionTimeoutMs: 4000,
      }),
    ],
    ['etcd', () => ({ type: 'etcd', endpoints: etcd.endpoints, namespace: 'exit', sessionTimeoutMs: 4000 })],
  ] as const;

  it.each(registries)('on %s', async (_name, configuration) => {
    const result = await runChild(configuration());
    expect(result.output).toContain('CLOSED');
    expect(result.code).toBe(0);
    expect(result.lingerMs).toBeLessThan(EXIT_BOUND_MS);
  });

  // Embedded in an application, the library writes nothing at info level (starts, reshardings,
  // stops) unless the application asks for it; problems (warn and above) still reach stderr.
  it.each(registries)(
    'embedded on %s: quiet by default, info lines with ELASTICJOB_LOG_LEVEL=info',
    { timeout: 90_000 }, // three child processes, each connecting and running one fire
    async (_name, configuration) => {
      const quiet = await runChild(configuration(), { defaultLogger: true });
      expect(quiet.code).toBe(0);
      expect(quiet.output).toContain('CLOSED');
      expect(quiet.output).not.toMatch(/"level":(10|20|30)/);
      const verbose = await runChild(configuration(), {
        defaultLogger: true,
        env: { ELASTICJOB_LOG_LEVEL: 'info' },
      });
      expect(verbose.code).toBe(0);
      expect(verbose.output).toMatch(/\{"level":30,[^\n]*"name":"elasticjob"/);
      const invalid = await runChild(configuration(), {
        defaultLogger: true,
        env: { ELASTICJOB_LOG_LEVEL: 'loud' },
      });
      expect(invalid.code).toBe(0); // reported, not fatal: the default level applies
      expect(invalid.output).toContain(
        'ELASTICJOB_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got \\"loud\\"; using \'warn\'',
      );
    },
  );
});
