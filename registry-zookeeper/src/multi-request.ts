/**
 * ZooKeeper's `multi` request (opcode 14), encoded here in one pass into one buffer and sent
 * through `node-zookeeper-client`'s `ConnectionManager.queue` like its own requests (the library
 * sets the xid when it writes the packet, and decodes the answer by the header's type: a
 * `TransactionResponse`, one result per operation).
 *
 * The library's `Transaction` builds a record object per operation and per ACL, copies every
 * `setData` value, and measures each record twice (with a regular expression per vector field)
 * before writing it: at 1,000 jobs firing in one second that was about a fifth of the bytes
 * allocated per fire. The wire format is the same (`MultiHeader { int type; boolean done; int err }`
 * before each request, `{ -1, true, -1 }` at the end):
 *
 * ```
 * create    { ustring path; buffer data; vector<ACL { int perms; ustring scheme; ustring id }> acl; int flags }
 * setData   { ustring path; buffer data; int version }
 * check     { ustring path; int version }
 * delete    { ustring path; int version }
 * ```
 *
 * The answer is decoded here too ({@link MultiReplyDecoder}): the library decodes each result into
 * a record object (a `Stat` of eight buffers per `setData`, a path string per `create`) through its
 * generic field-by-field reader; at 1,000 jobs that was 11.6 KB of the 73 KB a fire allocated. The
 * results are `MultiResult { int type; ... }` after a `MultiHeader` each, ended by `{ -1, true, -1 }`:
 *
 * ```
 * create  { ustring path }            setData { Stat stat }     error { int err }
 * create2 { ustring path; Stat stat } delete, check: nothing
 * ```
 *
 * @module
 */
import type * as zookeeper from 'node-zookeeper-client';

/** Opcodes of the requests of a multi (and of their results). */
const OPCODE = { create: 1, delete: 2, update: 5, check: 13, multi: 14, create2: 15 } as const;

/** Opcode of an error result in a multi's answer. */
const ERROR_RESULT = -1;

/** Bytes of a ZooKeeper `Stat`: six longs and five ints. */
const STAT_BYTES = 6 * 8 + 5 * 4;

/** Offset of `version` in a `Stat` (after czxid, mzxid, ctime, mtime). */
const STAT_VERSION_OFFSET = 4 * 8;

/** Bytes of a reply header: `int xid; long zxid; int err`, after the 4-byte length prefix. */
const REPLY_HEADER_BYTES = 4 + 8 + 4;

/** An ACL entry as the wire carries it. */
export interface WireAcl {
  readonly perms: number;
  readonly scheme: string;
  readonly id: string;
}

/** One request of a multi, with its absolute path (the client's chroot is prepended on the wire). */
export type MultiOperation =
  | {
      readonly type: 'create';
      readonly path: string;
      readonly data: Buffer;
      readonly acls: readonly WireAcl[];
      readonly mode: number;
    }
  | { readonly type: 'update'; readonly path: string; readonly data: Buffer; readonly version: number }
  | { readonly type: 'check' | 'delete'; readonly path: string; readonly version: number };

/** Bytes of a `MultiHeader`. */
const MULTI_HEADER_BYTES = 4 + 1 + 4;

function stringBytes(value: string): number {
  return 4 + Buffer.byteLength(value, 'utf8');
}

/** A `multi` request, shaped like the library's `jute.Request` (`header`, `payload`, `toBuffer`). */
export class MultiRequest {
  /** Request header; the library sets `xid` before it calls {@link toBuffer}. */
  readonly header = { xid: 0, type: OPCODE.multi };
  /** No library payload: the body is encoded by {@link toBuffer}. */
  readonly payload = null;
  /** The results, once {@link MultiReplyDecoder} decoded the answer (a successful reply only). */
  answer: MultiResult[] | undefined;
  readonly #operations: readonly MultiOperation[];
  readonly #chroot: string;
  readonly #replies: MultiReplyDecoder | undefined;

  /**
   * @param operations - the requests, in order.
   * @param chroot - the client's chroot path (`''` for none), prepended to every path.
   * @param replies - the decoder of the connection's answers, told the xid when the frame is
   *   built (the library's decoding otherwise).
   */
  constructor(operations: readonly MultiOperation[], chroot: string, replies?: MultiReplyDecoder) {
    this.#operations = operations;
    this.#chroot = chroot;
    this.#replies = replies;
  }

  /**
   * Length-prefixed frame: `int len; int xid; int type;` then the multi's body. The library calls
   * it when it writes the packet, after setting the xid.
   */
  toBuffer(): Buffer {
    this.#replies?.expect(this.header.xid, this);
    let size = 4 + 4 + 4 + MULTI_HEADER_BYTES;
    for (const op of this.#operations) size += MULTI_HEADER_BYTES + this.#bodyBytes(op);
    const frame = Buffer.allocUnsafe(size);
    let offset = frame.writeInt32BE(size - 4, 0);
    offset = frame.writeInt32BE(this.header.xid, offset);
    offset = frame.writeInt32BE(OPCODE.multi, offset);
    for (const op of this.#operations) {
      offset = writeMultiHeader(frame, offset, OPCODE[op.type], false);
      offset = this.#writePath(frame, offset, op.path);
      switch (op.type) {
        case 'create':
          offset = writeData(frame, offset, op.data);
          offset = frame.writeInt32BE(op.acls.length, offset);
          for (const acl of op.acls) {
            offset = frame.writeInt32BE(acl.perms, offset);
            offset = writeString(frame, offset, acl.scheme);
            offset = writeString(frame, offset, acl.id);
          }
          offset = frame.writeInt32BE(op.mode, offset);
          break;
        case 'update':
          offset = writeData(frame, offset, op.data);
          offset = frame.writeInt32BE(op.version, offset);
          break;
        case 'check':
        case 'delete':
          offset = frame.writeInt32BE(op.version, offset);
          break;
      }
    }
    writeMultiHeader(frame, offset, -1, true);
    return frame;
  }

  #bodyBytes(op: MultiOperation): number {
    const path = stringBytes(this.#onWire(op.path));
    switch (op.type) {
      case 'create': {
        let acls = 4;
        for (const acl of op.acls) acls += 4 + stringBytes(acl.scheme) + stringBytes(acl.id);
        return path + 4 + op.data.length + acls + 4;
      }
      case 'update':
        return path + 4 + op.data.length + 4;
      case 'check':
      case 'delete':
        return path + 4;
    }
  }

  #writePath(frame: Buffer, offset: number, path: string): number {
    return writeString(frame, offset, this.#onWire(path));
  }

  /** The path as the server sees it (the library's rule: the chroot alone for `/`). */
  #onWire(path: string): string {
    if (this.#chroot === '') return path;
    return path === '/' ? this.#chroot : `${this.#chroot}${path}`;
  }
}

/** One operation's result in a `multi`'s answer. */
export interface MultiResult {
  /** Opcode of the operation, or `-1` for an error result (every result of a failed multi). */
  readonly type: number;
  /** Error code of an error result: `0` for the operations before the failing one. */
  readonly err?: number;
  /** After a `setData`: the node's zxids and data version as written. */
  readonly stat?: WrittenStat;
}

/** What a `setData` result's `Stat` tells of the node it wrote. */
export interface WrittenStat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly version: number;
}

/**
 * Decodes the answers of the multis sent on one connection before `node-zookeeper-client` reads
 * them. A {@link MultiRequest} announces its xid when its frame is built; the successful answer
 * with that xid is decoded into {@link MultiRequest.answer}, and the library is handed the same
 * reply header with an empty result list (it still matches the xid, records the zxid and calls the
 * request's callback). Any other packet goes to the library unchanged.
 */
export class MultiReplyDecoder {
  readonly #awaiting = new Map<number, MultiRequest>();

  /** Number of multis sent and not answered yet. */
  get awaiting(): number {
    return this.#awaiting.size;
  }

  /**
   * Registers the request sent with `xid`.
   *
   * @param xid - the request's xid on this connection.
   * @param request - the request.
   */
  expect(xid: number, request: MultiRequest): void {
    this.#awaiting.set(xid, request);
  }

  /**
   * Stops waiting for `request` (its callback ran: answered, or failed without an answer).
   *
   * @param request - the request.
   */
  forget(request: MultiRequest): void {
    if (this.#awaiting.get(request.header.xid) === request) this.#awaiting.delete(request.header.xid);
  }

  /** Forgets every request: their connection is gone, and a new one starts with its handshake. */
  clear(): void {
    this.#awaiting.clear();
  }

  /**
   * Takes the next whole packet of the connection (length prefix included).
   *
   * @param packet - the packet as received.
   * @returns the packet for the library: `packet` itself, or for the answer of a registered multi
   *   its reply header and an empty result list.
   * @throws {RangeError} when a registered multi's answer is malformed (the connection's stream
   *   is then not ZooKeeper's).
   */
  take(packet: Buffer): Buffer {
    if (this.#awaiting.size === 0 || packet.length < 4 + REPLY_HEADER_BYTES) return packet;
    const xid = packet.readInt32BE(4);
    const request = this.#awaiting.get(xid);
    if (request === undefined) return packet;
    this.#awaiting.delete(xid);
    // An error in the header (not a multi's failed operation: that is a result) has no body.
    if (packet.readInt32BE(4 + 4 + 8) !== 0) return packet;
    request.answer = decodeResults(packet, 4 + REPLY_HEADER_BYTES);
    const stripped = Buffer.allocUnsafe(4 + REPLY_HEADER_BYTES + MULTI_HEADER_BYTES);
    stripped.writeInt32BE(REPLY_HEADER_BYTES + MULTI_HEADER_BYTES, 0);
    packet.copy(stripped, 4, 4, 4 + REPLY_HEADER_BYTES);
    writeMultiHeader(stripped, 4 + REPLY_HEADER_BYTES, -1, true);
    return stripped;
  }
}

/**
 * Reads the results of a multi's answer.
 *
 * @param packet - the packet.
 * @param offset - where the first `MultiHeader` starts.
 * @returns one result per operation, in order.
 * @throws {RangeError} when the results run past the packet or hold an unknown opcode.
 */
export function decodeResults(packet: Buffer, offset: number): MultiResult[] {
  const results: MultiResult[] = [];
  let at = offset;
  for (;;) {
    const type = packet.readInt32BE(at);
    const done = packet.readUInt8(at + 4) !== 0;
    at += MULTI_HEADER_BYTES;
    if (done) return results;
    switch (type) {
      case OPCODE.create:
        at = skipString(packet, at);
        results.push({ type });
        break;
      case OPCODE.create2:
        at = skipString(packet, at) + STAT_BYTES;
        results.push({ type });
        break;
      case OPCODE.update:
        results.push({ type, stat: readStat(packet, at) });
        at += STAT_BYTES;
        break;
      case OPCODE.delete:
      case OPCODE.check:
        results.push({ type });
        break;
      case ERROR_RESULT:
        results.push({ type, err: packet.readInt32BE(at) });
        at += 4;
        break;
      default:
        throw new RangeError(`unknown result opcode ${type} in a multi's answer`);
    }
  }
}

function skipString(packet: Buffer, at: number): number {
  const length = packet.readInt32BE(at);
  const end = at + 4 + Math.max(0, length);
  if (end > packet.length) throw new RangeError("a path runs past the end of a multi's answer");
  return end;
}

function readStat(packet: Buffer, at: number): WrittenStat {
  if (at + STAT_BYTES > packet.length) throw new RangeError("a Stat runs past the end of a multi's answer");
  return {
    czxid: packet.readBigInt64BE(at),
    mzxid: packet.readBigInt64BE(at + 8),
    version: packet.readInt32BE(at + STAT_VERSION_OFFSET),
  };
}

/** The parts of the library's `ConnectionManager` this module touches. */
interface ManagerInternals {
  queue?: (request: unknown, callback: (error: unknown, response?: unknown) => void) => void;
  chrootPath?: string;
}

/** The decoder of each connection manager's answers (see {@link multiReplyDecoderOf}). */
const DECODERS = new WeakMap<object, MultiReplyDecoder>();

/**
 * The answer decoder of a library connection manager: the connection feeds it every packet
 * ({@link MultiReplyDecoder.take}); {@link sendMulti} registers its requests with it.
 *
 * @param manager - the library client's `connectionManager`.
 * @returns its decoder, created on first use.
 */
export function multiReplyDecoderOf(manager: object): MultiReplyDecoder {
  let decoder = DECODERS.get(manager);
  if (decoder === undefined) {
    decoder = new MultiReplyDecoder();
    DECODERS.set(manager, decoder);
  }
  return decoder;
}

/**
 * Queues a multi on the client's connection (sent at once when connected, after the reconnect
 * otherwise, like the library's own requests).
 *
 * @param client - the library client; its connection must feed {@link multiReplyDecoderOf} its
 *   manager's packets (`ZookeeperConnection` does).
 * @param operations - the requests, in order, with absolute paths.
 * @param done - called once: with the library's exception when there is no answer (connection
 *   loss, session expiry), else with one result per operation (a failed multi has an error result
 *   for each).
 * @throws {Error} when the library's internals are not the expected ones (another version), or
 *   when no connection decodes the manager's answers.
 */
export function sendMulti(
  client: zookeeper.Client,
  operations: readonly MultiOperation[],
  done: (error: unknown, results: MultiResult[] | undefined) => void,
): void {
  const manager = (client as unknown as { connectionManager?: ManagerInternals }).connectionManager;
  if (manager === undefined || typeof manager.queue !== 'function') {
    throw new Error('node-zookeeper-client internals changed: ConnectionManager.queue is missing');
  }
  const replies = DECODERS.get(manager);
  if (replies === undefined) throw new Error("no connection decodes this client's multi answers");
  const request = new MultiRequest(operations, manager.chrootPath ?? '', replies);
  manager.queue(request, (error) => {
    replies.forget(request);
    if (error) done(error, undefined);
    else if (request.answer === undefined) done(new Error('multi answered without results'), undefined);
    else done(null, request.answer);
  });
}

function writeMultiHeader(frame: Buffer, offset: number, type: number, done: boolean): number {
  let at = frame.writeInt32BE(type, offset);
  at = frame.writeUInt8(done ? 1 : 0, at);
  return frame.writeInt32BE(-1, at);
}

function writeString(frame: Buffer, offset: number, value: string): number {
  const at = frame.writeInt32BE(Buffer.byteLength(value, 'utf8'), offset);
  return at + frame.write(value, at, 'utf8');
}

function writeData(frame: Buffer, offset: number, data: Buffer): number {
  const at = frame.writeInt32BE(data.length, offset);
  return at + data.copy(frame, at);
}
