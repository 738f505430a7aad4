/**
 * The job dump: format, order and IP masking (ElasticJob's snapshot format), and the TCP dump
 * server and client over real loopback sockets, on the memory registry.
 */
import { connect } from 'node:net';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CoordinatorRegistryCenter,
  createIpMasker,
  type DumpServer,
  dumpJob,
  JobDumpService,
  JobNotFoundError,
  RegistryError,
  startDumpServer,
} from '../src/index.js';

const server = new MemoryRegistryServer();
const cleanups: Array<() => Promise<void>> = [];
let seq = 0;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function registry(): Promise<CoordinatorRegistryCenter> {
  const client = new MemoryRegistryCenter({ server, namespace: `dump-${seq++}` });
  await client.start();
  cleanups.push(() => client.close());
  return client;
}

async function serve(client: CoordinatorRegistryCenter, extra: { onError?: (error: unknown) => void } = {}) {
  const dumpServer = await startDumpServer({ registry: client, port: 0, ...extra });
  cleanups.push(() => dumpServer.close());
  return dumpServer;
}

/** Writes a small job subtree by hand so that the dump is known exactly. */
async function writeJob(client: CoordinatorRegistryCenter): Promise<void> {
  await client.persist('/orders', 'SimpleJob');
  await client.persist('/orders/config', 'cron: 0/5 * * * * ?\njobName: orders\nshardingTotalCount: 2\n');
  await client.persist('/orders/servers/192.168.1.20', 'ENABLED');
  await client.persist('/orders/servers/192.168.1.3', 'DISABLED');
  await client.persist(
    '/orders/instances/192.168.1.20@-@77',
    'jobInstanceId: 192.168.1.20@-@77\nserverIp: 192.168.1.20\n',
  );
  await client.persist('/orders/sharding/0/instance', '192.168.1.20@-@77');
  await client.persist('/orders/sharding/1/instance', '192.168.1.20@-@77');
  await client.persist('/orders/sharding/1/disabled', '');
  await client.persist('/orders/sharding/10/instance', '192.168.1.20@-@77');
  await client.persist('/ordersX/config', 'not part of the dump');
}

const EXPECTED_DUMP = [
  '/orders/sharding | ',
  '/orders/sharding/10 | ',
  '/orders/sharding/10/instance | ip1@-@77',
  '/orders/sharding/1 | ',
  '/orders/sharding/1/instance | ip1@-@77',
  '/orders/sharding/1/disabled | ',
  '/orders/sharding/0 | ',
  '/orders/sharding/0/instance | ip1@-@77',
  '/orders/servers | ',
  '/orders/servers/192.168.1.3 | DISABLED',
  '/orders/servers/192.168.1.20 | ENABLED',
  '/orders/instances | ',
  '/orders/instances/ip1@-@77 | jobInstanceId: ip1@-@77',
  'serverIp: ip1',
  '',
  '/orders/config | cron: 0/5 * * * * ?',
  'jobName: orders',
  'shardingTotalCount: 2',
  '',
]
  .map((line) => `${line}\n`)
  .join('')
  // Children descending by UTF-16 code units ('10' > '1' > '0', ElasticJob's order). Masks are
  // given in order of first appearance: 192.168.1.20 first (sharding), then 192.168.1.3.
  .replace('/orders/servers/192.168.1.3 |', '/orders/servers/ip2 |')
  .replace('/orders/servers/192.168.1.20 |', '/orders/servers/ip1 |');

describe('JobDumpService', () => {
  it('dumps every node under the job in pre-order, children descending, IPs masked consistently', async () => {
    const client = await registry();
    await writeJob(client);
    expect(await new JobDumpService(client).dump('orders')).toBe(EXPECTED_DUMP);
  });

  it('keeps IPs when masking is turned off', async () => {
    const client = await registry();
    await writeJob(client);
    const lines = await new JobDumpService(client).dumpLines('orders', { maskIps: false });
    expect(lines).toContain('/orders/servers/192.168.1.3 | DISABLED');
    expect(lines[0]).toBe('/orders/sharding | ');
  });

  it('adds the cached view when the cached read disagrees with the server', async () => {
    const client = await registry();
    await writeJob(client);
    const stale = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'get') {
          return async (key: string) =>
            key === '/orders/servers/192.168.1.3'
              ? 'ENABLED'
              : key === '/orders/sharding/10'
                ? undefined
                : target.get(key);
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const lines = await new JobDumpService(stale).dumpLines('orders');
    expect(lines).toContain('/orders/servers/ip2 | DISABLED | /orders/servers/ip2 | ENABLED');
    expect(lines).toContain('/orders/sharding/10 |  | /orders/sharding/10 | null');
  });

  it('dumps a job without config but rejects a job that does not exist', async () => {
    const client = await registry();
    await client.persist('/half/instances/x', '');
    expect(await new JobDumpService(client).dump('half')).toBe('/half/instances | \n/half/instances/x | \n');
    await expect(new JobDumpService(client).dump('orders')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(new JobDumpService(client).dump('a@b')).rejects.toThrow(/jobName/);
  });
});

describe('createIpMasker', () => {
  it('masks IPv4 addresses only, the same address always with the same name', () => {
    const mask = createIpMasker();
    expect(mask('10.0.0.1 and 10.0.0.2@-@3 and 10.0.0.1')).toBe('ip1 and ip2@-@3 and ip1');
    expect(mask('again 10.0.0.2, new 255.255.255.255')).toBe('again ip2, new ip3');
    expect(mask('version 1.2.3.4.5, 256.1.1.1, 1.2.3, 11.22.33.444')).toBe(
      'version 1.2.3.4.5, 256.1.1.1, 1.2.3, 11.22.33.444',
    );
  });
});

/** Sends raw bytes, half-closes (as `echo ... | nc` does), and collects the answer until the server closes. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name.startsWith('TCP')).length;
}

describe('dump server', () => {
  it('answers dump@{jobName} with the dump and closes the connection (ElasticJob protocol)', async () => {
    const client = await registry();
    await writeJob(client);
    const dumpServer = await serve(client);
    expect(dumpServer.host).toBe('127.0.0.1');
    expect(dumpServer.port).toBeGreaterThan(0);
    expect(await dumpJob({ port: dumpServer.port, jobName: 'orders' })).toBe(EXPECTED_DUMP);
    // Other lines before the command are ignored; CRLF is accepted.
    expect(await exchange(dumpServer.port, 'hello\r\ndump@orders\r\n')).toBe(EXPECTED_DUMP);
    // Unknown job, invalid name, malformed command: empty answer.
    expect(await exchange(dumpServer.port, 'dump@missing\n')).toBe('');
    expect(await exchange(dumpServer.port, 'dump@a@b\n')).toBe('');
    expect(await exchange(dumpServer.port, 'dump@../x\n')).toBe('');
    // A client that sends no command and half-closes gets an empty answer.
    expect(await exchange(dumpServer.port, '')).toBe('');
    expect(await exchange(dumpServer.port, 'dump@orders')).toBe(EXPECTED_DUMP); // last line without line end
  });

  it('resets the connection and reports the error when the registry fails', async () => {
    const client = await registry();
    await writeJob(client);
    const failing = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'getChildrenKeys') {
          return () =>
            Promise.reject(new RegistryError('CONNECTION_LOSS', 'lost (test)', { path: '/orders' }));
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const errors: unknown[] = [];
    const dumpServer = await serve(failing, { onError: (error) => errors.push(error) });
    await expect(dumpJob({ port: dumpServer.port, jobName: 'orders' })).rejects.toThrow(
      /ECONNRESET|socket hang up/,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'RegistryError', code: 'CONNECTION_LOSS' });
  });

  it('closes idle connections after requestTimeoutMs, and close() leaves no socket behind', async () => {
    const client = await registry();
    await writeJob(client);
    const dumpServer: DumpServer = await startDumpServer({
      registry: client,
      port: 0,
      requestTimeoutMs: 200,
    });
    const idle = connect({ host: '127.0.0.1', port: dumpServer.port });
    const idleClosed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    idle.on('error', () => {});
    await idleClosed; // closed by the server's request timeout
    const open = connect({ host: '127.0.0.1', port: dumpServer.port });
    open.on('error', () => {});
    await new Promise<void>((resolve) => open.on('connect', () => resolve()));
    const openClosed = new Promise<void>((resolve) => open.on('close', () => resolve()));
    await dumpServer.close();
    await openClosed;
    await dumpServer.close(); // idempotent
    expect(tcpHandles()).toBe(0);
    await expect(dumpJob({ port: dumpServer.port, jobName: 'orders', timeoutMs: 2000 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('rejects invalid options naming them, and reports a port in use', async () => {
    const client = await registry();
    await expect(startDumpServer({ registry: client, port: 70_000 })).rejects.toThrow(
      /port must be an integer from 0 to 65535/,
    );
    await expect(startDumpServer({ registry: client, port: 0, requestTimeoutMs: 0 })).rejects.toThrow(
      /requestTimeoutMs/,
    );
    const first = await serve(client);
    await expect(startDumpServer({ registry: client, port: first.port })).rejects.toThrow(/EADDRINUSE/);
    expect(() => dumpJob({ port: 0, jobName: 'orders' })).toThrow(/port/);
    expect(() => dumpJob({ port: first.port, jobName: 'a b' })).toThrow(/jobName/);
  });
});
