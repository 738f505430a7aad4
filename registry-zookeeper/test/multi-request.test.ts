import { createRequire } from 'node:module';
import { ACL, CreateMode, Id, Permission } from 'node-zookeeper-client';
import { describe, expect, it } from 'vitest';
import {
  decodeResults,
  type MultiOperation,
  MultiReplyDecoder,
  MultiRequest,
  type MultiResult,
} from '../src/multi-request.js';

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

/** A result of a multi's answer, as the server writes it. */
type WireResult =
  | { readonly type: 1; readonly path: string }
  | { readonly type: 5; readonly czxid: bigint; readonly mzxid: bigint; readonly version: number }
  | { readonly type: 2 | 13 }
  | { readonly type: -1; readonly err: number };

function int(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

function long(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(value);
  return buffer;
}

function multiHeader(type: number, done: boolean, err: number): Buffer {
  return Buffer.concat([int(type), Buffer.from([done ? 1 : 0]), int(err)]);
}

function stat(czxid: bigint, mzxid: bigint, version: number): Buffer {
  // czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid
  return Buffer.concat([
    long(czxid),
    long(mzxid),
    long(1_700_000_000_000n),
    long(1_700_000_000_001n),
    int(version),
    int(3),
    int(0),
    long(0n),
    int(9),
    int(0),
    long(czxid),
  ]);
}

/** A whole reply packet: length, `{ xid, zxid, err }`, then the results and the end marker. */
function replyPacket(xid: number, zxid: bigint, err: number, results: readonly WireResult[]): Buffer {
  const body = results.map((result) => {
    switch (result.type) {
      case 1: {
        const path = Buffer.from(result.path, 'utf8');
        return Buffer.concat([multiHeader(1, false, 0), int(path.length), path]);
      }
      case 5:
        return Buffer.concat([multiHeader(5, false, 0), stat(result.czxid, result.mzxid, result.version)]);
      case -1:
        return Buffer.concat([multiHeader(-1, false, result.err), int(result.err)]);
      default:
        return multiHeader(result.type, false, 0);
    }
  });
  const payload = Buffer.concat([
    int(xid),
    long(zxid),
    int(err),
    ...(err === 0 ? [...body, multiHeader(-1, true, -1)] : []),
  ]);
  return Buffer.concat([int(payload.length), payload]);
}

interface LibraryTransactionResponse {
  results: {
    type: number;
    path?: string;
    err?: number;
    stat?: { czxid: Buffer; mzxid: Buffer; version: number };
  }[];
  deserialize(buffer: Buffer, offset: number): number;
}

/** The library's decoding of a reply packet's results. */
function libraryResults(packet: Buffer): LibraryTransactionResponse['results'] {
  const jute = require('node-zookeeper-client/lib/jute/index.js') as {
    TransactionResponse: new () => LibraryTransactionResponse;
  };
  const response = new jute.TransactionResponse();
  response.deserialize(packet, 4 + 16);
  return response.results;
}

const COMMITTED: WireResult[] = [
  { type: 13 },
  { type: 1, path: '/ns/jöb/sharding/0/running' },
  { type: 5, czxid: 0x1_0000_0007n, mzxid: 0x2_0000_0042n, version: 12 },
  { type: 2 },
];

const FAILED: WireResult[] = [
  { type: -1, err: 0 },
  { type: -1, err: -110 },
  { type: -1, err: -2 },
];

describe('decodeResults', () => {
  it('reads what the library reads from a committed multi: types, and the Stat of a setData', () => {
    const packet = replyPacket(9, 77n, 0, COMMITTED);
    const ours = decodeResults(packet, 4 + 16);
    const theirs = libraryResults(packet);
    expect(ours.map((result) => result.type)).toEqual(theirs.map((result) => result.type));
    expect(ours[2]).toEqual({ type: 5, stat: { czxid: 0x1_0000_0007n, mzxid: 0x2_0000_0042n, version: 12 } });
    const libraryStat = theirs[2]?.stat;
    expect(libraryStat?.czxid.readBigInt64BE(0)).toBe(0x1_0000_0007n);
    expect(libraryStat?.mzxid.readBigInt64BE(0)).toBe(0x2_0000_0042n);
    expect(libraryStat?.version).toBe(12);
  });

  it('reads the error code of every result of a failed multi', () => {
    const packet = replyPacket(9, 77n, 0, FAILED);
    const expected: MultiResult[] = FAILED.map((result) => ({
      type: -1,
      err: (result as { err: number }).err,
    }));
    expect(decodeResults(packet, 4 + 16)).toEqual(expected);
    expect(libraryResults(packet).map((result) => result.err)).toEqual([0, -110, -2]);
  });

  it('refuses an answer that runs past its packet or holds an unknown opcode', () => {
    const whole = replyPacket(9, 77n, 0, COMMITTED);
    expect(() => decodeResults(whole.subarray(0, 40), 4 + 16)).toThrow(RangeError);
    const unknown = Buffer.concat([
      int(0),
      long(0n),
      int(0),
      multiHeader(99, false, 0),
      multiHeader(-1, true, -1),
    ]);
    expect(() => decodeResults(unknown, 16)).toThrow(/unknown result opcode 99/);
  });
});

describe('MultiReplyDecoder', () => {
  it('decodes the answer of a multi it was told of and hands the library its header and no results', () => {
    const decoder = new MultiReplyDecoder();
    const request = new MultiRequest(OPERATIONS, '', decoder);
    request.header.xid = 31;
    request.toBuffer();
    expect(decoder.awaiting).toBe(1);
    const packet = replyPacket(31, 0x5_0000_0001n, 0, COMMITTED);
    const forLibrary = decoder.take(packet);
    expect(request.answer?.map((result) => result.type)).toEqual([13, 1, 5, 2]);
    expect(decoder.awaiting).toBe(0);
    // Same length prefix rule, xid, zxid and error; the library reads an empty result list.
    expect(forLibrary.readInt32BE(0)).toBe(forLibrary.length - 4);
    expect(forLibrary.subarray(4, 20).equals(packet.subarray(4, 20))).toBe(true);
    expect(libraryResults(forLibrary)).toEqual([]);
  });

  it('passes every other packet through untouched', () => {
    const decoder = new MultiReplyDecoder();
    const request = new MultiRequest(OPERATIONS, '', decoder);
    request.header.xid = 5;
    request.toBuffer();
    const notification = replyPacket(-1, 0n, 0, []);
    const otherXid = replyPacket(4, 1n, 0, COMMITTED);
    expect(decoder.take(notification)).toBe(notification);
    expect(decoder.take(otherXid)).toBe(otherXid);
    // An error in the reply header carries no results: the library reports it.
    const refused = replyPacket(5, 1n, -118, []);
    expect(decoder.take(refused)).toBe(refused);
    expect(request.answer).toBeUndefined();
    // Once cleared (a new socket), nothing is awaited.
    const second = new MultiRequest(OPERATIONS, '', decoder);
    second.header.xid = 6;
    second.toBuffer();
    decoder.clear();
    const late = replyPacket(6, 1n, 0, COMMITTED);
    expect(decoder.take(late)).toBe(late);
    expect(second.answer).toBeUndefined();
  });

  it('forgets a request whose callback ran without an answer', () => {
    const decoder = new MultiReplyDecoder();
    const request = new MultiRequest(OPERATIONS, '', decoder);
    request.header.xid = 8;
    request.toBuffer();
    decoder.forget(request);
    expect(decoder.awaiting).toBe(0);
  });
});
