/**
 * `elasticjob console` as an operator runs it: the core CLI in a subprocess (`npm run build` first)
 * loads this package, serves on loopback without users, refuses a public bind without users, and
 * stops on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import { createRegistryCenter } from '@elasticjob-ts/core';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveInstance, type RegistryBackend, startInstance } from './support/console-fixture.js';

const MAIN = fileURLToPath(new URL('../../core/dist/cli/main.js', import.meta.url));
const BUILT_CONSOLE = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));

function run(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = { ELASTICJOB_LOG_LEVEL: 'silent' },
): {
  child: ChildProcess;
  output: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stdout: () => string;
} {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const output = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, output, stdout: () => stdout };
}

describe('elasticjob console (CLI, etcd)', { timeout: 60_000 }, () => {
  const namespace = `console-cli-${process.pid}`;
  let server: EtcdTestServer;
  let instance: LiveInstance;
  let observer: CoordinatorRegistryCenter;
  let url: string;

  beforeAll(async () => {
    for (const file of [MAIN, BUILT_CONSOLE]) {
      if (!existsSync(file))
        throw new Error(
          `${file} is missing: build first (npx turbo run build --filter=@elasticjob-ts/console...)`,
        );
    }
    server = await startEtcdServer();
    const backend: RegistryBackend = {
      name: 'etcd',
      createClient: (ns) =>
        createRegistryCenter({
          type: 'etcd',
          endpoints: server.endpoints,
          namespace: ns,
          sessionTimeoutMs: 4000,
        }),
      stop: () => server.stop(),
    };
    observer = await backend.createClient(namespace);
    instance = await startInstance(backend, namespace, 'orders', 'a', '10.0.0.1');
    url = `etcd://${server.endpoints.map((endpoint) => new URL(endpoint).host).join(',')}/${namespace}`;
  }, 60_000);

  afterAll(async () => {
    await instance?.stop();
    await observer?.close();
    await server?.stop();
  });

  it('serves the console on loopback and stops on SIGTERM', async () => {
    const cli = run(['console', '--registry', url, '--port', '0']);
    try {
      await checkConsole(cli);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect((await cli.output).code).toBe(0);
  });

  it('writes an audit line per operation by default, on stderr, marked once', async () => {
    const cli = run(['console', '--registry', url, '--port', '0'], { ELASTICJOB_LOG_LEVEL: undefined });
    let stderr = '';
    cli.child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      const consoleUrl = await consoleUrlOf(cli);
      const triggered = await fetch(new URL('api/v1/jobs/orders/trigger', consoleUrl), { method: 'POST' });
      expect(triggered.status).toBeLessThan(300);
      await expect
        .poll(() => stderr.split('\n').find((line) => line.includes('/api/v1/jobs/orders/trigger')))
        .toBeDefined();
    } finally {
      cli.child.kill('SIGTERM');
    }
    await cli.output;
    const line = stderr
      .split('\n')
      .find((candidate) => candidate.includes('/api/v1/jobs/orders/trigger')) as string;
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      audit: true,
      user: 'anonymous',
      method: 'POST',
      path: '/api/v1/jobs/orders/trigger',
      outcome: 'done',
    });
    expect(line.match(/"audit":true/g)).toHaveLength(1);
  });

  function consoleUrlOf(cli: ReturnType<typeof run>): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = /Console at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.stdout());
        if (match) resolve(match[1]!);
      };
      cli.child.stdout!.on('data', check);
      cli.output.then((result) => reject(new Error(`console exited: ${JSON.stringify(result)}`)));
    });
  }

  async function checkConsole(cli: ReturnType<typeof run>): Promise<void> {
    const consoleUrl = await consoleUrlOf(cli);
    const jobs = (await (await fetch(new URL('api/v1/jobs', consoleUrl))).json()) as {
      jobName: string;
      status: string;
    }[];
    expect(jobs).toEqual([expect.objectContaining({ jobName: 'orders', status: 'OK' })]);
    const page = await fetch(consoleUrl);
    expect(await page.text()).toContain('<div id="app">');
    // DNS-rebinding guard: another Host name is refused when the console runs without users.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      const target = new URL('api/v1/jobs', consoleUrl);
      request(target, { headers: { Host: 'evil.example' } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
        .once('error', reject)
        .end();
    });
    expect(rebound).toBe(403);
  }

  it('refuses a non-loopback bind without users (exit 2, naming --users)', async () => {
    const result = await run(['console', '--registry', url, '--host', '0.0.0.0', '--port', '0']).output;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Refusing to bind 0\.0\.0\.0 without authentication.*--users/);
  });

  it('names a port already in use as a --port problem (exit 2), not an internal error', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await run(['console', '--registry', url, '--port', String(port)]).output;
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `port ${port} on 127.0.0.1 is already in use; choose another with --port`,
      );
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
