/**
 * One `watch(key)` subscription: an initial range read (delivered as `ADDED`, parents before
 * children), then an etcd watch with prev-KV from the read's revision + 1 over `[key, key + '0')`
 * (the key and everything below `key/`; siblings such as `key-x` are filtered out).
 *
 * No event is lost or duplicated:
 * - the last delivered revision is tracked here; when the watch stream reconnects, `etcd3` resumes
 *   from it (we set the resume revision ourselves: `etcd3` would resume from the *created* header's
 *   revision, which can skip events still in flight), and events at or below it are dropped;
 * - when etcd cancels the watch (its resume revision was compacted, or any other cancel), the
 *   subtree is read again and the differences against our cache are delivered as events, then a new
 *   watch starts after that read.
 *
 * @module
 */
import type { RegistryEvent, RegistryEventType, RegistryWatchListener } from '@elasticjob-ts/core';
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { KeyCodec } from './keys.js';
import { readAcrossTermChanges } from './raft-term.js';

interface CachedNode {
  readonly value: string;
  readonly modRevision: bigint;
}

/** Dependencies of a {@link SubtreeWatch}. */
export interface SubtreeWatchOptions {
  readonly client: Etcd3;
  readonly codec: KeyCodec;
  /** Registry path of the watched subtree root. */
  readonly path: string;
  readonly listener: RegistryWatchListener;
  /** Deadline of one range read, in ms. */
  readonly requestTimeoutMs: number;
  /** Reports a listener that threw, or a background failure. */
  readonly onError: (message: string, error: unknown) => void;
}

const RESYNC_INITIAL_DELAY_MS = 100;
const CANCEL_WAIT_MS = 1000;

/**
 * Cancels an `etcd3` watcher, waiting at most 1 s for etcd to confirm (an unreachable server
 * never does; the stream is torn down with the client anyway).
 */
export async function cancelWatcher(watcher: Watcher): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    watcher.cancel().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, CANCEL_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}
const RESYNC_MAX_DELAY_MS = 2000;

/** A subtree watch with its node cache (see the module docs). */
export class SubtreeWatch {
  private readonly cache = new Map<string, CachedNode>();
  private lastRevision = 0n;
  private watcher: Watcher | undefined;
  private closed = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing = false;

  constructor(private readonly options: SubtreeWatchOptions) {}

  /**
   * Reads the subtree, delivers it as `ADDED` events and attaches the etcd watch.
   *
   * @throws the vendor error of the read or of the watch creation (the caller maps it).
   */
  async start(): Promise<void> {
    const revision = await this.readAndDiff();
    await this.attach(revision);
  }

  /** Cancels the etcd watch; no event is delivered after the returned promise resolves. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resyncTimer);
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher !== undefined) {
      watcher.removeAllListeners('data');
      await cancelWatcher(watcher);
    }
  }

  /** Reads the subtree and delivers the differences to the cache; returns the read's revision. */
  private async readAndDiff(): Promise<bigint> {
    const { client, codec, path } = this.options;
    const range = codec.subtree(path);
    const response = await readAcrossTermChanges(
      (deadline) => client.kv.range({ key: range.key, range_end: range.range_end }, { deadline }),
      Date.now() + this.options.requestTimeoutMs,
    );
    const fresh = new Map<string, { kv: IKeyValue; value: string }>();
    for (const kv of response.kvs) {
      const key = kv.key.toString();
      if (codec.isInSubtree(key, path)) fresh.set(key, { kv, value: kv.value.toString() });
    }
    // Deletions deepest first, then additions and changes parents first.
    const gone = [...this.cache.keys()].filter((key) => !fresh.has(key)).sort((a, b) => (a < b ? 1 : -1));
    for (const key of gone) {
      const old = this.cache.get(key);
      this.cache.delete(key);
      this.deliver('DELETED', key, old?.value ?? '');
    }
    const present = [...fresh.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of present) {
      const entry = fresh.get(key);
      if (entry === undefined) continue;
      const modRevision = BigInt(entry.kv.mod_revision);
      const old = this.cache.get(key);
      this.cache.set(key, { value: entry.value, modRevision });
      if (old === undefined) this.deliver('ADDED', key, entry.value);
      else if (old.modRevision !== modRevision) this.deliver('UPDATED', key, entry.value);
    }
    const revision = BigInt(response.header.revision);
    this.lastRevision = revision;
    return revision;
  }

  private async attach(revision: bigint): Promise<void> {
    const { client, codec, path } = this.options;
    const range = codec.subtree(path);
    const watcher = client
      .watch()
      .inRange({ start: range.key, end: range.range_end })
      .withPreviousKV()
      .startRevision((revision + 1n).toString())
      .watcher();
    this.watcher = watcher;
    watcher.on('data', (response: IWatchResponse) => {
      if (this.watcher === watcher) this.onResponse(response);
    });
    watcher.on('disconnected', () => {
      // Resume exactly after what we delivered (see the module docs).
      watcher.request.start_revision = (this.lastRevision + 1n).toString();
    });
    const created = new Promise<void>((resolve, reject) => {
      watcher.once('connected', () => resolve());
      watcher.on('error', (error: Error) => {
        reject(error);
        if (this.watcher === watcher) this.onCancelled(error);
      });
    });
    if (this.closed) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    await created;
  }

  private onResponse(response: IWatchResponse): void {
    if (this.closed) return;
    const { codec, path } = this.options;
    if (response.events.length === 0) {
      // A progress notification: every event up to this revision has been sent.
      if (!response.created && !response.canceled) {
        const revision = BigInt(response.header.revision);
        if (revision > this.lastRevision) this.lastRevision = revision;
      }
      return;
    }
    let highest = this.lastRevision;
    for (const event of response.events) {
      const modRevision = BigInt(event.kv.mod_revision);
      if (modRevision <= this.lastRevision) continue; // already delivered before a reconnect
      if (modRevision > highest) highest = modRevision;
      const key = event.kv.key.toString();
      if (!codec.isInSubtree(key, path)) continue;
      if (event.type === 'Delete') {
        const old = this.cache.get(key);
        this.cache.delete(key);
        this.deliver('DELETED', key, event.prev_kv?.value.toString() ?? old?.value ?? '');
      } else {
        const value = event.kv.value.toString();
        const existed = event.prev_kv !== null && event.prev_kv !== undefined;
        this.cache.set(key, { value, modRevision });
        this.deliver(existed ? 'UPDATED' : 'ADDED', key, value);
      }
    }
    this.lastRevision = highest;
  }

  private onCancelled(error: Error): void {
    if (this.closed) return;
    this.watcher = undefined;
    this.options.onError(
      `watch of '${this.options.path}' was cancelled by etcd; re-reading the subtree`,
      error,
    );
    this.scheduleResync(0);
  }

  private scheduleResync(delayMs: number): void {
    if (this.closed || this.resyncing) return;
    this.resyncTimer = setTimeout(() => void this.resync(delayMs), delayMs);
  }

  private async resync(delayMs: number): Promise<void> {
    if (this.closed) return;
    this.resyncing = true;
    try {
      const revision = await this.readAndDiff();
      if (this.closed) return;
      await this.attach(revision);
      this.resyncing = false;
    } catch (error) {
      this.resyncing = false;
      if (this.closed) return;
      this.watcher = undefined;
      this.options.onError(`re-reading watched subtree '${this.options.path}' failed; retrying`, error);
      this.scheduleResync(Math.min(RESYNC_MAX_DELAY_MS, Math.max(RESYNC_INITIAL_DELAY_MS, delayMs * 2)));
    }
  }

  private deliver(type: RegistryEventType, key: string, value: string): void {
    const path = this.options.codec.toPath(key);
    if (path === undefined || this.closed) return;
    const event: RegistryEvent = { type, key: path, value };
    try {
      this.options.listener(event);
    } catch (error) {
      this.options.onError(`watch listener of '${this.options.path}' threw on ${type} '${path}'`, error);
    }
  }
}
