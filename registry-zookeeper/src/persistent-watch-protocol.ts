/**
 * The wire side of ZooKeeper's persistent recursive watches (ZooKeeper ≥ 3.6) for
 * `node-zookeeper-client` 1.1.3, which predates them and is extended here without being edited.
 *
 * - **Requests.** `addWatch` (opcode 106, `AddWatchRequest { ustring path; int mode }`) and
 *   `removeWatches` (opcode 18, `RemoveWatchesRequest { ustring path; int type }`) both have a
 *   path-and-int body and an empty answer. They go through the library's `ConnectionManager.queue`
 *   like any request, so they get an xid, are answered in order and are failed with the other
 *   pending requests when the socket closes. The library decodes an answer by the request's
 *   `header.type` and drops the connection on a type it does not know; a {@link PathAndIntRequest}
 *   therefore writes its own opcode on the wire and then presents the type of a request the library
 *   answers without a body (`SET_WATCHES`), so the empty answer (or an error code) reaches the
 *   callback and the pending queue stays aligned.
 * - **Error codes.** An answer may carry an error code newer than the library (`NOWATCHER`, -121,
 *   from `removeWatches`); `library-exceptions.ts` makes the library accept it.
 * - **Notifications.** The server sends `NodeCreated`, `NodeDeleted` and `NodeDataChanged` (never
 *   `NodeChildrenChanged`) for the watched node and every descendant, without data, under the
 *   usual notification xid; the library hands them to its `WatcherManager.emit`, which only knows
 *   one-shot watchers. {@link hookNotifications} wraps that method so every notification is seen
 *   first by our handler and then by the library's one-shot dispatch, unchanged.
 *
 * @module
 */
import type * as zookeeper from 'node-zookeeper-client';

/** Opcode of `addWatch` (ZooKeeper ≥ 3.6). */
export const ADD_WATCH_OPCODE = 106;
/** Opcode of `removeWatches` (ZooKeeper ≥ 3.5). */
export const REMOVE_WATCHES_OPCODE = 18;
/** `addWatch` mode: persistent and recursive (the node and all its descendants). */
export const ADD_WATCH_MODE_PERSISTENT_RECURSIVE = 1;
/** `removeWatches` watcher type `Any` (ZooKeeper 3.6–3.8 number it 3: Children 1, Data 2, Any 3): every watch of the connection on the path, persistent ones included. */
export const WATCHER_TYPE_ANY = 3;
/** Error code of a server that does not know the request's opcode (ZooKeeper 3.4/3.5 for `addWatch`). */
export const ZK_UNIMPLEMENTED = -6;
/** Opcode of a request the library answers without decoding a body (`SET_WATCHES`). */
const LIBRARY_BODYLESS_OPCODE = 101;

/** The parts of the library's `ConnectionManager` this module touches. */
interface ManagerInternals {
  queue?: (request: unknown, callback: (error: unknown) => void) => void;
  chrootPath?: string;
  watcherManager?: { emit?: (event: { type: number; path: string }) => unknown };
}

function managerOf(client: zookeeper.Client): ManagerInternals | undefined {
  return (client as unknown as { connectionManager?: ManagerInternals }).connectionManager;
}

/**
 * A request whose body is `{ ustring path; int value }`, shaped like the library's `jute.Request`
 * (`header.xid` is set by the library when it sends the packet; `toBuffer()` is called once, when
 * the packet is written).
 */
class PathAndIntRequest {
  /** Request header; `type` is the library-facing type after serialisation (see the module doc). */
  readonly header: { xid: number; type: number };
  /** No library payload: the body is serialised by {@link toBuffer}. */
  readonly payload = null;
  readonly #opcode: number;
  readonly #path: string;
  readonly #value: number;

  constructor(opcode: number, path: string, value: number) {
    this.header = { xid: 0, type: opcode };
    this.#opcode = opcode;
    this.#path = path;
    this.#value = value;
  }

  /** Length-prefixed frame: `int len; int xid; int type; ustring path; int value`. */
  toBuffer(): Buffer {
    const path = Buffer.from(this.#path, 'utf8');
    const frame = Buffer.alloc(4 + 4 + 4 + 4 + path.length + 4);
    let offset = frame.writeInt32BE(frame.length - 4, 0);
    offset = frame.writeInt32BE(this.header.xid, offset);
    offset = frame.writeInt32BE(this.#opcode, offset);
    offset = frame.writeInt32BE(path.length, offset);
    offset += path.copy(frame, offset);
    frame.writeInt32BE(this.#value, offset);
    // From now on the library only reads the type to decode the answer: make it one it answers
    // without a body.
    this.header.type = LIBRARY_BODYLESS_OPCODE;
    return frame;
  }
}

/**
 * Queues a path-and-int request with an empty answer on the client's connection (sent at once
 * when connected, after the reconnect otherwise, like the library's own requests).
 *
 * @param client - the library client.
 * @param opcode - {@link ADD_WATCH_OPCODE} or {@link REMOVE_WATCHES_OPCODE}.
 * @param path - absolute ZooKeeper path (the client's chroot, if any, is prepended).
 * @param value - the `mode` or `type` field.
 * @param done - called once with the library's exception (`null` on success).
 * @throws {Error} when the library's internals are not the expected ones (another version).
 */
export function sendPathAndIntRequest(
  client: zookeeper.Client,
  opcode: number,
  path: string,
  value: number,
  done: (error: unknown) => void,
): void {
  const manager = managerOf(client);
  if (typeof manager?.queue !== 'function') {
    throw new Error('node-zookeeper-client internals changed: ConnectionManager.queue is missing');
  }
  const chroot = manager.chrootPath ?? '';
  const fullPath = chroot === '' ? path : path === '/' ? chroot : `${chroot}${path}`;
  manager.queue(new PathAndIntRequest(opcode, fullPath, value), (error) => done(error ?? null));
}

/** `addWatch(path, PERSISTENT_RECURSIVE)`; see {@link sendPathAndIntRequest}. */
export function addPersistentRecursiveWatch(
  client: zookeeper.Client,
  path: string,
  done: (error: unknown) => void,
): void {
  sendPathAndIntRequest(client, ADD_WATCH_OPCODE, path, ADD_WATCH_MODE_PERSISTENT_RECURSIVE, done);
}

/** `removeWatches(path, Any)`; see {@link sendPathAndIntRequest}. */
export function removeAllWatches(
  client: zookeeper.Client,
  path: string,
  done: (error: unknown) => void,
): void {
  sendPathAndIntRequest(client, REMOVE_WATCHES_OPCODE, path, WATCHER_TYPE_ANY, done);
}

/**
 * Routes every watch notification the client receives to `handler` (type as numbered by the
 * library: 1 created, 2 deleted, 3 data changed, 4 children changed; path without chroot), before
 * the library's one-shot dispatch. Call once per client.
 *
 * @param client - the library client.
 * @param handler - must not throw (an exception would reach the library's socket handler).
 * @throws {Error} when the library's internals are not the expected ones (another version).
 */
export function hookNotifications(
  client: zookeeper.Client,
  handler: (type: number, path: string) => void,
): void {
  const watcherManager = managerOf(client)?.watcherManager;
  const original = watcherManager?.emit;
  if (watcherManager === undefined || typeof original !== 'function') {
    throw new Error('node-zookeeper-client internals changed: WatcherManager.emit is missing');
  }
  watcherManager.emit = (event) => {
    handler(event.type, event.path);
    return original.call(watcherManager, event);
  };
}
