import { createRequire } from 'node:module';
import { ACL, CreateMode, Id, Permission } from 'node-zookeeper-client';
import { describe, expect, it } from 'vitest';
import { type MultiOperation, MultiRequest } from '../src/multi-request.js';

const require = createRequire(import.meta.url);

interface LibraryRequest {
  header: { xid: number };
  payload: { setChrootPath(path: string): void };
  toBuffer(): Buffer;
}

/** The library's own encoding of the same multi (its `Transaction`, queued on a fake manager). */
function libraryFrame(operations: readonly MultiOperation[], chroot: string, xid: number): Buffer {
  const Transaction = require('node-zookeeper-client/lib/Transaction.js') as new (
    manager: unknown,
  ) => {
    create(path: string, data: Buffer, acls: ACL[], mode: number): unknown;
    setData(path: string, data: Buffer, version: number): unknown;
    check(path: string, version: number): unknown;
    remove(path: string, version: number): unknown;
    ops: { version?: number }[];
    commit(callback: () => void): void;
  };
  let queued: LibraryRequest | undefined;
  const ConnectionManager = require('node-zookeeper-client/lib/ConnectionManager.js') as {
    prototype: object;
  };
  const manager = Object.create(ConnectionManager.prototype) as { queue: unknown };
  manager.queue = (request: LibraryRequest) => {
    queued = request;
  };
  const transaction = new Transaction(manager);
  for (const op of operations) {
    switch (op.type) {
      case 'create':
        transaction.create(
          op.path,
          op.data,
          op.acls.map((acl) => new ACL(acl.perms, new Id(acl.scheme, acl.id))),
          op.mode,
        );
        break;
      case 'update':
        transaction.setData(op.path, op.data, op.version);
        break;
      case 'check':
        transaction.check(op.path, op.version);
        // The library turns version 0 into -1 ("any"); the wire must carry the version asked for.
        (transaction.ops[transaction.ops.length - 1] as { version: number }).version = op.version;
        break;
      case 'delete':
        transaction.remove(op.path, op.version);
        break;
    }
  }
  transaction.commit(() => {});
  const request = queued as LibraryRequest;
  if (chroot !== '') request.payload.setChrootPath(chroot);
  request.header.xid = xid;
  return request.toBuffer();
}

const OPERATIONS: MultiOperation[] = [
  { type: 'check', path: '/ns/job/instances/host@-@1', version: -1 },
  { type: 'check', path: '/ns/job/sharding/0/instance', version: 0 },
  {
    type: 'create',
    path: '/ns/job/sharding/0/running',
    data: Buffer.from('host@-@1', 'utf8'),
    acls: [{ perms: Permission.ALL, scheme: 'world', id: 'anyone' }],
    mode: CreateMode.PERSISTENT,
  },
  { type: 'check', path: '/ns/job/sharding/0/fencing', version: 7 },
  { type: 'update', path: '/ns/job/sharding/0/fencing', data: Buffer.from('8@1700000000000'), version: -1 },
  {
    type: 'create',
    path: '/ns/jöb/ünïcode',
    data: Buffer.alloc(0),
    acls: [{ perms: Permission.ALL, scheme: 'auth', id: '' }],
    mode: CreateMode.PERSISTENT,
  },
  { type: 'delete', path: '/ns/job/sharding/0/running', version: -1 },
];

describe('MultiRequest', () => {
  it('encodes a multi byte for byte as the library does', () => {
    const request = new MultiRequest(OPERATIONS, '');
    request.header.xid = 42;
    expect(request.toBuffer().equals(libraryFrame(OPERATIONS, '', 42))).toBe(true);
  });

  it('prepends the chroot to every path as the library does', () => {
    const request = new MultiRequest(OPERATIONS, '/chroot');
    request.header.xid = 7;
    expect(request.toBuffer().equals(libraryFrame(OPERATIONS, '/chroot', 7))).toBe(true);
  });

  it('encodes an empty multi as its end marker alone', () => {
    const request = new MultiRequest([], '');
    expect(request.toBuffer().equals(libraryFrame([], '', 0))).toBe(true);
  });
});
