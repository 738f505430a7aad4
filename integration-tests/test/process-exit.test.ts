/**
 * Deterministic teardown: after `shutdown()` and `close()` no timer, socket or
 * watch keeps the process alive, on every registry.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type EtcdTestServer,
  startEtcdServer,
  startZookeeperServer,
  type ZookeeperTestServer,
} from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../dist/fixtures/exit-after-shutdown.js', import.meta.url));
const EXIT_BOUND_MS = 5000;

/** Runs the child; resolves with its exit code and how long it lived after printing CLOSED. */
function runChild(configuration: object): Promise<{ code: number | null; lingerMs: number; output: string }> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child, JSON.stringify(configuration)], { stdio: 'pipe' });
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

  it.each([
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
  ])('on %s', async (_name, configuration) => {
    const result = await runChild(configuration());
    expect(result.output).toContain('CLOSED');
    expect(result.code).toBe(0);
    expect(result.lingerMs).toBeLessThan(EXIT_BOUND_MS);
  });
});
