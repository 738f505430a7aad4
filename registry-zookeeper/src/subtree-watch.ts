/**
 * A subtree watch with a cache of the subtree, in one of two modes:
 *
 * - **persistent** (ZooKeeper ≥ 3.6): the connection's persistent recursive watch over the
 *   namespace (`addWatch`, one per connection for all subtree watches, see `namespace-watch.ts`;
 *   sent before the first read so that nothing is missed) notifies `NodeCreated`,
 *   `NodeDataChanged` and `NodeDeleted` for every node of the subtree. The snapshot is read once
 *   without watches; a created node costs one `getData` (its children are learned from their own
 *   `NodeCreated`), a data change one `getData`, a deletion nothing. A read answered with a node
 *   whose parent is not cached is dropped: the parent's pending child list (snapshot or re-read)
 *   names it if it still exists, and reads it then. A create or data write of this client's own
 *   `multi` is not read back: the registry center announces it before sending
 *   ({@link SubtreeWatch.expectOwnWrite}) and hands over the written node in the answer's callback
 *   ({@link SubtreeWatch.settleOwnWrite}); see `own-writes.ts`.
 * - **one-shot**: every cached node has a data watch (`getData`) and a child watch
 *   (`getChildren`), re-armed by the read that follows each trigger.
 *
 * ZooKeeper answers a session's requests in order and delivers
 * a watch notification before any response that reflects the change, so applying every answer to
 * the cache synchronously, in arrival order, keeps the cache in server order; events are the
 * differences the answers reveal:
 *
 * - a node first seen by a successful read → `ADDED` (parents before children: a child is only
 *   read after its parent's child list);
 * - a higher `mzxid` → `UPDATED`; a different `czxid` → the node was re-created: `DELETED` then
 *   `ADDED`;
 * - a deletion notification, a `NONODE` answer, or a name missing from a child list → `DELETED`
 *   with the last cached value, children before parents.
 *
 * Comparing zxids makes re-reads harmless: replayed notifications after a reconnect (one-shot: the
 * client re-sends its watches with `SET_WATCHES`), the full re-read after a reconnect (persistent:
 * the server dropped the connection's watches, so `addWatch` is sent again, then the subtree is
 * re-read) and the full re-read after a new session produce events only for real differences, so
 * nothing is lost or duplicated.
 *
 * @module
 */

import type { Logger } from '@elasticjob-ts/core/adapter';
import {
  RegistryError,
  type RegistryEventType,
  type RegistryWatchListener,
} from '@elasticjob-ts/core/adapter';
import type { Event, Stat } from 'node-zookeeper-client';
import type { PersistentWatchHandler } from './persistent-watch-dispatcher.js';
import { ZK_CODE, zookeeperCodeOf } from './to-registry-error.js';
import type { ZookeeperConnection } from './zookeeper-connection.js';
import { joinPath, nameOf, parentOf } from './zookeeper-paths.js';

/** ZooKeeper watch event types, as `node-zookeeper-client` numbers them. */
const NODE_CREATED = 1;
const NODE_DELETED = 2;
const NODE_DATA_CHANGED = 3;
const NODE_CHILDREN_CHANGED = 4;

interface CachedNode {
  value: string;
  czxid: bigint;
  mzxid: bigint;
  /** Data version (`Stat.version`) of `value`. */
  version: number;
  /** Child names known from the last child list. */
  children: Set<string>;
  /** A data change was notified and the re-read has not answered yet. */
  dataStale: boolean;
}

/**
 * How a {@link SubtreeWatch} learns of changes: `persistent` (one `addWatch`, ZooKeeper ≥ 3.6) or
 * `one-shot` (a data and a child watch per node, every ZooKeeper version).
 */
export type SubtreeWatchMode = 'persistent' | 'one-shot';

/** A node as this client wrote it: value, creation and modification zxids, data version. */
export interface WrittenNode {
  readonly value: string;
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly version: number;
}

/** What a {@link SubtreeWatch} needs from the registry center. */
export interface SubtreeWatchHost {
  /** Absolute ZooKeeper path of a namespace-relative key. */
  absolute(key: string): string;
  /** Namespace-relative key of an absolute path. */
  relative(path: string): string;
  /** Where listener errors and unexpected read failures are reported. */
  logger(): Logger;
}

/** Reads a Stat's 8-byte zxid field. */
export function zxidOf(buffer: Buffer): bigint {
  return buffer.readBigInt64BE(0);
}

function decode(data: Buffer | null | undefined): string {
  return data === null || data === undefined ? '' : data.toString('utf8');
}

/**
 * One `watch(key, listener)` registration: its cache, its watches and its listener.
 */
export class SubtreeWatch {
  readonly #host: SubtreeWatchHost;
  readonly #rootPath: string;
  readonly #rootKey: string;
  readonly #listener: RegistryWatchListener;
  readonly #nodes = new Map<string, CachedNode>();
  readonly #persistent: boolean;
  #connection: ZookeeperConnection;
  /** One-shot watcher passed to reads (one-shot mode only). */
  #watcher: ((event: Event) => void) | undefined;
  /** Persistent watch handler of {@link #connection} (persistent mode only). */
  #handler: PersistentWatchHandler;
  /** The connection whose dispatcher holds {@link #handler}, until released. */
  #armedOn: ZookeeperConnection | undefined;
  #disposed = false;
  #ready = false;
  #outstanding = 0;
  #initial: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /**
   * Own writes in flight (persistent mode): path → writes not yet answered, and whether a
   * creation or data change of the path was notified meanwhile (its read is deferred to the answer).
   */
  readonly #ownWrites = new Map<string, { pending: number; notified: boolean }>();
  /** Reads that failed with a connection loss, re-issued on reconnect. */
  readonly #retryReads = new Map<string, { data: boolean; children: boolean }>();

  /**
   * @param host - path mapping and logger.
   * @param connection - the session to arm the watches on.
   * @param key - namespace-relative subtree root.
   * @param listener - receives the events.
   * @param mode - how changes are learned (see the module description).
   */
  constructor(
    host: SubtreeWatchHost,
    connection: ZookeeperConnection,
    key: string,
    listener: RegistryWatchListener,
    mode: SubtreeWatchMode,
  ) {
    this.#host = host;
    this.#rootKey = key;
    this.#rootPath = host.absolute(key);
    this.#listener = listener;
    this.#persistent = mode === 'persistent';
    this.#connection = connection;
    this.#watcher = this.#makeWatcher(connection);
    this.#handler = this.#makeHandler(connection);
  }

  /** How this watch learns of changes. */
  get mode(): SubtreeWatchMode {
    return this.#persistent ? 'persistent' : 'one-shot';
  }

  /** Namespace-relative root key. */
  get key(): string {
    return this.#rootKey;
  }

  /** Absolute ZooKeeper path of the root. */
  get rootPath(): string {
    return this.#rootPath;
  }

  /** Whether the initial snapshot was delivered and the watch is live. */
  get active(): boolean {
    return this.#ready && !this.#disposed;
  }

  /**
   * Arms the watches and reads the subtree, delivering `ADDED` for every node (parents first).
   *
   * @param timeoutMs - bound for the initial read, in ms.
   * @throws {RegistryError} `NO_AUTH` when the subtree is not readable; `CONNECTION_LOSS` when the
   *   snapshot could not be read within `timeoutMs`; in persistent mode, the error of `addWatch`
   *   (`INVALID_STATE` with the ZooKeeper code `-6` in its `cause` from a server older than 3.6).
   */
  start(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#failInitial(
          new RegistryError(
            'CONNECTION_LOSS',
            `The initial snapshot of watch '${this.#rootKey}' was not read within ${timeoutMs} ms`,
            { path: this.#rootKey },
          ),
        );
      }, timeoutMs);
      this.#initial = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (this.#persistent) this.#arm();
      this.#readNode(this.#rootPath, false);
    });
  }

  /**
   * Stops delivery at once. One-shot watches still armed fire into nothing; the namespace's
   * persistent watch is removed from the server with the client's last subtree watch (a failure to
   * remove it is logged).
   */
  dispose(): void {
    this.#disposed = true;
    this.#release();
    this.#retryReads.clear();
    this.#ownWrites.clear();
    this.#failInitial(
      new RegistryError('NOT_STARTED', `Watch '${this.#rootKey}' was stopped`, { path: this.#rootKey }),
    );
  }

  /**
   * The cached value of a node when the cache is authoritative for it (watched, present and not
   * awaiting a re-read), else `undefined` (the caller then asks the server).
   *
   * @param path - absolute path.
   */
  cachedValue(path: string): string | undefined {
    if (!this.active || !this.covers(path)) return undefined;
    const node = this.#nodes.get(path);
    if (node === undefined || node.dataStale) return undefined;
    return node.value;
  }

  /**
   * The cached value and data version of a node when the cache is authoritative for it (see
   * {@link cachedValue}), else `undefined`. May lag the server; a version check built from it fails
   * with `BADVERSION` if the node changed meanwhile.
   *
   * @param path - absolute path.
   */
  cachedVersion(path: string): { value: string; version: number } | undefined {
    if (!this.active || !this.covers(path)) return undefined;
    const node = this.#nodes.get(path);
    if (node === undefined || node.dataStale) return undefined;
    return { value: node.value, version: node.version };
  }

  /**
   * The descendants of a node as the cache knows them (absolute paths, any order), or `undefined`
   * when the cache cannot say (not active, not covering `path`, or the node is not cached). The
   * answer may lag the server by the notifications in flight; a caller that deletes by it learns of
   * a difference from ZooKeeper itself (`NOTEMPTY`, or `NONODE` for a descendant) and lists again.
   *
   * @param path - absolute path.
   */
  cachedDescendants(path: string): string[] | undefined {
    if (!this.active || !this.covers(path) || !this.#nodes.has(path)) return undefined;
    const found: string[] = [];
    const visit = (parent: string): void => {
      for (const child of this.#nodes.get(parent)?.children ?? []) {
        const childPath = joinPath(parent, child);
        found.push(childPath);
        visit(childPath);
      }
    };
    visit(path);
    return found;
  }

  /**
   * Announces a create or data write of this client, about to be sent (persistent mode): a
   * creation or data change notified for `path` before the write is answered is not read; the
   * value then comes from {@link settleOwnWrite}, called from the answer's callback. ZooKeeper
   * sends a transaction's notifications right before its answer, with nothing in between, so
   * applying the written node at the answer keeps the cache in server order.
   *
   * @param path - absolute path written.
   * @returns whether the watch expects {@link settleOwnWrite} for `path` (false in one-shot mode,
   *   when inactive or when `path` lies outside the subtree).
   */
  expectOwnWrite(path: string): boolean {
    if (!this.#persistent || !this.active || !this.covers(path)) return false;
    const entry = this.#ownWrites.get(path) ?? { pending: 0, notified: false };
    entry.pending += 1;
    this.#ownWrites.set(path, entry);
    return true;
  }

  /**
   * Settles a write announced by {@link expectOwnWrite}, once per announcement, synchronously in
   * the answer's callback. When a notification for `path` came meanwhile: applies `written` (the
   * write succeeded), or reads the node (failed or unknown outcome: the change was someone else's).
   *
   * @param path - absolute path written.
   * @param written - the node as written, `undefined` when the write failed or its outcome is
   *   unknown.
   */
  settleOwnWrite(path: string, written: WrittenNode | undefined): void {
    const entry = this.#ownWrites.get(path);
    if (entry === undefined) return;
    entry.pending -= 1;
    if (entry.pending > 0) {
      if (written !== undefined && entry.notified && !this.#disposed) this.#applyNode(path, written);
      return;
    }
    this.#ownWrites.delete(path);
    if (!entry.notified || this.#disposed) return;
    if (written !== undefined) this.#applyNode(path, written);
    else this.#readData(path);
  }

  /** Whether an absolute path lies in this watch's subtree. */
  covers(path: string): boolean {
    return path === this.#rootPath || path.startsWith(this.#rootPath === '/' ? '/' : `${this.#rootPath}/`);
  }

  /**
   * Same session reconnected. One-shot: re-issue the reads a connection loss interrupted (the
   * library re-registered the watches). Persistent: the server dropped the connection's watches,
   * so add the watch again and re-read the subtree, delivering only the differences.
   */
  onReconnected(): void {
    if (this.#disposed) return;
    if (this.#persistent) {
      this.#rearm();
      return;
    }
    const retries = [...this.#retryReads];
    this.#retryReads.clear();
    for (const [path, kinds] of retries) {
      if (kinds.data) this.#readData(path);
      if (kinds.children) this.#readChildren(path, false);
    }
  }

  /**
   * New session: re-arm every watch on it and re-read the whole subtree, delivering only the
   * differences from the cache (nodes that vanished, appeared or changed meanwhile).
   *
   * @param connection - the new session.
   */
  resync(connection: ZookeeperConnection): void {
    if (this.#disposed) return;
    this.#connection = connection;
    this.#watcher = this.#makeWatcher(connection);
    this.#handler = this.#makeHandler(connection);
    this.#armedOn = undefined; // the old connection and its dispatcher are closed
    this.#rearm();
  }

  /** Arms the watches again (persistent mode) and re-reads the whole subtree, diffing. */
  #rearm(): void {
    this.#retryReads.clear();
    for (const node of this.#nodes.values()) node.dataStale = true;
    if (this.#persistent) this.#arm();
    this.#readNode(this.#rootPath, true);
  }

  #makeWatcher(connection: ZookeeperConnection): ((event: Event) => void) | undefined {
    if (this.#persistent) return undefined;
    return (event: Event) => {
      if (this.#disposed || connection !== this.#connection) return;
      this.#onNotification(event.getType(), event.getPath());
    };
  }

  #makeHandler(connection: ZookeeperConnection): PersistentWatchHandler {
    return (type, path) => {
      if (this.#disposed || connection !== this.#connection) return;
      this.#onPersistentNotification(type, path);
    };
  }

  /** Sends `addWatch` on the current connection (before any read that must not miss a change). */
  #arm(): void {
    const connection = this.#connection;
    this.#armedOn = connection;
    this.#outstanding += 1;
    connection.watchPersistently(this.#rootPath, this.#handler, (error) => {
      if (error !== undefined && this.#current(connection)) this.#onArmError(error);
      this.#settled();
    });
  }

  #onArmError(error: RegistryError): void {
    // A connection loss re-arms on reconnect; an expiry or a close is followed by a resync or
    // nothing.
    if (error.code === 'CONNECTION_LOSS' || error.code === 'SESSION_EXPIRED' || error.code === 'NOT_STARTED')
      return;
    this.#failOrReport(
      error,
      this.#rootKey,
      'ZooKeeper refused to re-add a persistent watch; the events of its subtree are missing',
    );
  }

  /** Fails the initial snapshot with `error`, or, once the watch is live, logs it. */
  #failOrReport(error: unknown, key: string, message: string): void {
    if (!this.#ready) {
      this.#failInitial(error);
      return;
    }
    this.#host.logger().error({ err: error, key }, message);
  }

  /** Drops the persistent watch registration (and the server's watch with the client's last one). */
  #release(): void {
    const connection = this.#armedOn;
    this.#armedOn = undefined;
    if (connection === undefined || connection.closed) return;
    connection.unwatchPersistently(this.#rootPath, this.#handler, (error) => {
      if (error === undefined || error.code === 'CONNECTION_LOSS' || error.code === 'NOT_STARTED') return;
      if (error.code === 'SESSION_EXPIRED') return; // the server dropped the session's watches
      this.#host
        .logger()
        .error({ err: error, key: this.#rootKey }, 'ZooKeeper could not remove a persistent watch');
    });
  }

  /**
   * A persistent recursive watch's notification (no `NodeChildrenChanged` in this mode): a created
   * node is read (its parent must be cached when the answer arrives, see the module description);
   * a changed node is marked stale and re-read; a deleted node leaves the cache.
   */
  #onPersistentNotification(type: number, path: string): void {
    const own = this.#ownWrites.get(path);
    if (own !== undefined && (type === NODE_CREATED || type === NODE_DATA_CHANGED)) {
      // Most likely this client's own write: its answer brings the value (see settleOwnWrite).
      own.notified = true;
      const node = this.#nodes.get(path);
      if (node !== undefined) node.dataStale = true;
      return;
    }
    switch (type) {
      case NODE_CREATED:
        this.#readData(path);
        break;
      case NODE_DELETED:
        this.#removeSubtree(path);
        break;
      case NODE_DATA_CHANGED:
        this.#onDataChanged(path);
        break;
      default:
        break;
    }
  }

  /** A data change: re-read a cached node (an uncached one has a read pending, answered later). */
  #onDataChanged(path: string): void {
    const node = this.#nodes.get(path);
    if (node === undefined) return;
    node.dataStale = true;
    this.#readData(path);
  }

  #onNotification(type: number, path: string): void {
    switch (type) {
      case NODE_CREATED:
        if (path === this.#rootPath) this.#readNode(path, false);
        break;
      case NODE_DELETED:
        this.#removeSubtree(path);
        if (path === this.#rootPath) this.#watchRootCreation();
        break;
      case NODE_DATA_CHANGED:
        this.#onDataChanged(path);
        break;
      case NODE_CHILDREN_CHANGED:
        if (this.#nodes.has(path)) this.#readChildren(path, false);
        break;
      default:
        break;
    }
  }

  /** Reads a node's data and children (pipelined: the data answer arrives first). */
  #readNode(path: string, deep: boolean): void {
    this.#readData(path);
    this.#readChildren(path, deep);
  }

  #readData(path: string): void {
    const connection = this.#connection;
    const watcher = this.#watcher;
    this.#outstanding += 1;
    connection.send<{ data: Buffer | null; stat: Stat }>(
      'getData',
      this.#host.relative(path),
      undefined,
      (client, done) => {
        const callback = (error: unknown, data: Buffer | null, stat: Stat): void =>
          done(error, { data, stat });
        if (watcher === undefined) client.getData(path, callback);
        else client.getData(path, watcher, callback);
      },
      (error, result) => {
        if (this.#current(connection)) {
          if (error !== undefined) this.#onReadError(path, 'data', error);
          else if (result !== undefined) this.#applyData(path, decode(result.data), result.stat);
        }
        this.#settled();
      },
    );
  }

  #readChildren(path: string, deep: boolean): void {
    const connection = this.#connection;
    const watcher = this.#watcher;
    this.#outstanding += 1;
    connection.send<string[]>(
      'getChildren',
      this.#host.relative(path),
      undefined,
      (client, done) => {
        const callback = (error: unknown, children: string[]): void => done(error, children);
        if (watcher === undefined) client.getChildren(path, callback);
        else client.getChildren(path, watcher, callback);
      },
      (error, children) => {
        if (this.#current(connection)) {
          if (error !== undefined) this.#onReadError(path, 'children', error);
          else if (children !== undefined) this.#applyChildren(path, children, deep);
        }
        this.#settled();
      },
    );
  }

  /** One-shot mode: an `exists` watch on the missing root (a persistent watch notifies it anyway). */
  #watchRootCreation(): void {
    const watcher = this.#watcher;
    if (watcher === undefined) return;
    const connection = this.#connection;
    const path = this.#rootPath;
    this.#outstanding += 1;
    connection.send<Stat | null>(
      'exists',
      this.#rootKey,
      undefined,
      (client, done) => client.exists(path, watcher, (error, stat) => done(error, stat)),
      (error, stat) => {
        if (this.#current(connection)) {
          if (error !== undefined) this.#onReadError(path, 'exists', error);
          // Created between the failed read and this check: the watch `exists` set is a data watch
          // now and no creation event will come, so read the node.
          else if (stat && !this.#nodes.has(path)) this.#readNode(path, false);
        }
        this.#settled();
      },
    );
  }

  #current(connection: ZookeeperConnection): boolean {
    return !this.#disposed && connection === this.#connection;
  }

  #applyData(path: string, value: string, stat: Stat): void {
    this.#applyNode(path, {
      value,
      czxid: zxidOf(stat.czxid),
      mzxid: zxidOf(stat.mzxid),
      version: stat.version,
    });
  }

  #applyNode(path: string, written: WrittenNode): void {
    const { value, czxid, mzxid, version } = written;
    const node = this.#nodes.get(path);
    if (node === undefined) {
      if (path !== this.#rootPath && !this.#nodes.has(parentOf(path))) return; // parent gone meanwhile
      this.#nodes.set(path, {
        value,
        czxid,
        mzxid,
        version,
        children: new Set(),
        dataStale: false,
      });
      if (path !== this.#rootPath) this.#nodes.get(parentOf(path))?.children.add(nameOf(path));
      this.#emit('ADDED', path, value);
      return;
    }
    if (node.czxid !== czxid) {
      // Deleted and created again while we were not looking (only possible across a new session).
      this.#removeSubtree(path);
      this.#applyNode(path, written);
      this.#readChildren(path, false);
      return;
    }
    node.dataStale = false;
    if (mzxid > node.mzxid) {
      node.mzxid = mzxid;
      node.value = value;
      node.version = version;
      this.#emit('UPDATED', path, value);
    }
  }

  #applyChildren(path: string, names: string[], deep: boolean): void {
    const node = this.#nodes.get(path);
    if (node === undefined) return;
    const current = new Set(names);
    for (const known of [...node.children]) {
      if (!current.has(known)) this.#removeSubtree(joinPath(path, known));
    }
    for (const name of names) {
      const child = joinPath(path, name);
      if (!this.#nodes.has(child)) this.#readNode(child, deep);
      else if (deep) this.#readNode(child, true);
    }
  }

  #onReadError(path: string, kind: 'data' | 'children' | 'exists', error: unknown): void {
    const code = RegistryError.is(error) ? error.code : undefined;
    const zkCode = zookeeperCodeOf((error as { cause?: unknown }).cause);
    if (code === 'NO_NODE' || zkCode === ZK_CODE.NO_NODE) {
      this.#removeSubtree(path);
      if (path === this.#rootPath) this.#watchRootCreation();
      return;
    }
    if (code === 'CONNECTION_LOSS') {
      // The request was sent and its answer lost; the watch may not be armed. Read again once the
      // session is reachable (a new session re-reads everything anyway).
      const entry = this.#retryReads.get(path) ?? { data: false, children: false };
      if (kind === 'children') entry.children = true;
      else entry.data = true;
      if (kind === 'exists') entry.children = true;
      this.#retryReads.set(path, entry);
      return;
    }
    if (code === 'SESSION_EXPIRED' || code === 'NOT_STARTED') return; // a resync or close follows
    this.#failOrReport(
      error,
      this.#host.relative(path),
      'ZooKeeper watch could not read a node; its events are missing',
    );
  }

  #removeSubtree(path: string): void {
    const node = this.#nodes.get(path);
    if (node === undefined) return;
    for (const child of [...node.children]) this.#removeSubtree(joinPath(path, child));
    this.#nodes.delete(path);
    if (path !== this.#rootPath) this.#nodes.get(parentOf(path))?.children.delete(nameOf(path));
    this.#emit('DELETED', path, node.value);
  }

  #settled(): void {
    this.#outstanding -= 1;
    if (this.#outstanding === 0 && !this.#ready && this.#initial !== undefined && !this.#disposed) {
      this.#ready = true;
      const initial = this.#initial;
      this.#initial = undefined;
      initial.resolve();
    }
  }

  #failInitial(error: unknown): void {
    if (this.#ready || this.#initial === undefined) return;
    const initial = this.#initial;
    this.#initial = undefined;
    this.#disposed = true;
    initial.reject(error);
  }

  #emit(type: RegistryEventType, path: string, value: string): void {
    if (this.#disposed || (!this.#ready && this.#initial === undefined)) return;
    try {
      this.#listener({ type, key: this.#host.relative(path), value });
    } catch (error) {
      this.#host
        .logger()
        .error(
          { err: error, key: this.#host.relative(path), type },
          'A registry watch listener threw; delivery continues',
        );
    }
  }
}
