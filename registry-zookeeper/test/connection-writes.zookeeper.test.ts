/**
 * What a `ZookeeperConnection` puts on its socket, and how the library's error answers reach it:
 * the requests queued in one turn of the event loop leave in one write, in order; and the
 * library's exceptions carry no stack trace (the adapter's `RegistryError` carries the caller's)
 * while newer error codes are still accepted.
 */
import { RegistryError } from '@elasticjob-ts/core';
import * as zookeeper from 'node-zookeeper-client';
import { afterEach, describe, expect, it } from 'vitest';
import { adaptLibraryExceptions, ZK_NO_WATCHER } from '../src/library-exceptions.js';
import { ZookeeperConnection } from '../src/zookeeper-connection.js';
import { useZookeeperServer } from './support/zookeeper-fixture.js';

const fixture = useZookeeperServer();
const connections: ZookeeperConnection[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close(1_000)));
});

async function connected(): Promise<ZookeeperConnection> {
  const connection = new ZookeeperConnection({
    serverLists: fixture.server.connectString,
    sessionTimeoutMs: 10_000,
    spinDelayMs: 100,
  });
  connections.push(connection);
  connection.connect();
  await connection.waitConnected(10_000, () => 'not connected');
  return connection;
}

/** The socket's write entry points, counted from now on. */
function countSocketWrites(connection: ZookeeperConnection): { writes(): number; bytes(): number } {
  const socket = (connection.client as unknown as { connectionManager: { socket: unknown } })
    .connectionManager.socket as {
    _write(chunk: Buffer, encoding: string, callback: () => void): void;
    _writev(chunks: Array<{ chunk: Buffer }>, callback: () => void): void;
  };
  let writes = 0;
  let bytes = 0;
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (chunk, encoding, callback) => {
    writes += 1;
    bytes += chunk.length;
    write(chunk, encoding, callback);
  };
  socket._writev = (chunks, callback) => {
    writes += 1;
    for (const { chunk } of chunks) bytes += chunk.length;
    writev(chunks, callback);
  };
  return { writes: () => writes, bytes: () => bytes };
}

function create(connection: ZookeeperConnection, path: string, data: string): Promise<string> {
  return connection.call('create', path, 10_000, (client, done) =>
    client.create(path, Buffer.from(data), zookeeper.CreateMode.PERSISTENT, (error, created) =>
      done(error, created),
    ),
  );
}

function getData(connection: ZookeeperConnection, path: string): Promise<string> {
  return connection.call('getData', path, 10_000, (client, done) =>
    client.getData(path, (error, data) => done(error, data?.toString() ?? '')),
  );
}

describe('ZookeeperConnection writes', () => {
  it('sends the requests queued in one turn in one write, and answers each in order', async () => {
    const connection = await connected();
    const root = `/writes-${Date.now()}`;
    await create(connection, root, '');
    const counter = countSocketWrites(connection);

    const paths = Array.from({ length: 40 }, (_, i) => `${root}/n${String(i).padStart(2, '0')}`);
    const created = await Promise.all(paths.map((path, i) => create(connection, path, `v${i}`)));

    expect(created).toEqual(paths);
    expect(counter.writes()).toBe(1);
    expect(counter.bytes()).toBeGreaterThan(40 * root.length);
    // A later turn writes again, and reads back what the batched creates wrote.
    const values = await Promise.all(paths.map((path) => getData(connection, path)));
    expect(values).toEqual(paths.map((_, i) => `v${i}`));
    expect(counter.writes()).toBe(2);
  });

  it('keeps writing turn after turn (a request of each turn is answered)', async () => {
    const connection = await connected();
    const root = `/turns-${Date.now()}`;
    await create(connection, root, 'r');
    const counter = countSocketWrites(connection);
    for (let turn = 0; turn < 5; turn++) await expect(getData(connection, root)).resolves.toBe('r');
    expect(counter.writes()).toBe(5);
  });
});

describe('library exceptions', () => {
  it('reach the caller as a RegistryError with its stack, the library exception as a cause without one', async () => {
    const connection = await connected();
    const error = await getData(connection, `/absent-${Date.now()}`).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('NO_NODE');
    expect((error as Error).stack).toMatch(/\n\s+at /);
    const cause = (error as Error).cause as Error & { code: number; name: string };
    expect(cause.code).toBe(zookeeper.Exception.NO_NODE);
    expect(cause.name).toBe('NO_NODE');
    expect(cause.stack ?? '').not.toMatch(/\n\s+at /);
    // The trace limit is back for everyone else.
    expect(new Error('probe').stack).toMatch(/\n\s+at /);
  });

  it('accept error codes newer than the library, named when known', () => {
    adaptLibraryExceptions();
    const create = (
      zookeeper.Exception as unknown as { create(code: number, path?: string): Error & { code: number } }
    ).create;
    const noWatcher = create(ZK_NO_WATCHER, '/a');
    expect(noWatcher.code).toBe(ZK_NO_WATCHER);
    expect(noWatcher.name).toBe('NO_WATCHER');
    expect(noWatcher.message).toBe('Exception: NO_WATCHER[-121]@/a');
    const unknown = create(-999);
    expect(unknown.code).toBe(-999);
    expect(unknown.name).toBe('UNKNOWN_ERROR');
    expect(create(zookeeper.Exception.NODE_EXISTS).name).toBe('NODE_EXISTS');
  });
});
