/**
 * One `watch(key)` subscription of a {@link NamespaceWatch}: a cache of the subtree (`key` and
 * everything below `key/`), filled by range reads and by the namespace watch's events.
 *
 * The subscription is *stale* from its creation until its first read, and again whenever the
 * namespace watch loses continuity (etcd cancelled it): while stale, the events dispatched to it
 * are buffered. {@link SubtreeWatch.synchronize} reads the subtree at some revision R, delivers the
 * differences against the cache (everything as `ADDED`, parents first, the first time; deletions
 * deepest first, then additions and changes), then delivers the buffered events after R and drops
 * those at or below R (the read already holds them). Later events are delivered as they come,
 * except those at or below the last read's revision.
 *
 * This is exact as long as the namespace watch was established before the read was sent: every
 * event after R then reaches the buffer or the cache.
 *
 * The events carry no previous value (the namespace watcher does not ask etcd for prev-KV: etcd
 * would read each event's previous revision, which slows its delivery down so much under a burst
 * of changes that the watcher falls behind). The cache supplies it instead: since every event
 * after the last read is applied in revision order, the cache holds each key's state just before
 * the event being applied. A put of a key absent from the cache is therefore `ADDED` (exactly when
 * the put created the key: `create_revision === mod_revision`), of a cached key `UPDATED`, and a
 * delete reports the cached value, which is the key's last value.
 *
 * @module
 */
import type { RegistryEvent, RegistryEventType, RegistryWatchListener } from '@elasticjob-ts/core/adapter';
import type { Etcd3, IKeyValue } from 'etcd3';
import type { KeyCodec } from './keys.js';
import { readAcrossTermChanges } from './raft-term.js';
import type { RequestGate } from './request-gate.js';

interface CachedNode {
  readonly value: string;
  readonly modRevision: bigint;
}

/** One etcd event as the namespace watch dispatches it (a put or a delete, without prev-KV). */
export interface SubtreeEvent {
  readonly type: 'Put' | 'Delete';
  /** The node's etcd key. */
  readonly key: string;
  /** The put's key-value, or for a delete the key and the deletion's revision only. */
  readonly kv: IKeyValue;
  /** The event's revision (`kv.mod_revision`). */
  readonly revision: bigint;
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
  /** The client's request gate: the subtree reads pass it. */
  readonly gate: RequestGate;
  /** Reports a listener that threw. */
  readonly onError: (message: string, error: unknown) => void;
}

/** A subtree watch with its node cache (see the module docs). */
export class SubtreeWatch {
  private readonly cache = new Map<string, CachedNode>();
  /** Events received while stale; `undefined` while synchronised. */
  private buffer: SubtreeEvent[] | undefined = [];
  /** Counts {@link markStale} calls, to tell whether one happened during a read. */
  private staleMarks = 0;
  /** Revision of the last read: events at or below it are already in the cache. */
  private readRevision = 0n;
  private stopped = false;
  /** Serialises reads: an older read must never be applied after a newer one. */
  private reads: Promise<void> = Promise.resolve();

  constructor(private readonly options: SubtreeWatchOptions) {}

  /** Registry path of the watched subtree root. */
  get path(): string {
    return this.options.path;
  }

  /** Whether the watch waits for a read (buffering events meanwhile). */
  get stale(): boolean {
    return this.buffer !== undefined && !this.stopped;
  }

  /** Starts buffering events: the namespace watch lost continuity and a re-read must follow. */
  markStale(): void {
    this.staleMarks += 1;
    this.buffer ??= [];
  }

  /**
   * When stale, reads the subtree and delivers the differences and the buffered later events (see
   * the module docs); does nothing otherwise. Calls are serialised.
   *
   * @throws the vendor error of the read (the watch stays stale).
   */
  synchronize(): Promise<void> {
    const read = this.reads.then(() => this.readAndFlush());
    this.reads = read.catch(() => undefined);
    return read;
  }

  /** Receives an event of the subtree from the namespace watch. */
  deliver(event: SubtreeEvent): void {
    if (this.stopped) return;
    if (this.buffer !== undefined) this.buffer.push(event);
    else this.apply(event);
  }

  /** Stops delivery at once (synchronously). */
  stop(): void {
    this.stopped = true;
    this.buffer = undefined;
  }

  private async readAndFlush(): Promise<void> {
    if (!this.stale) return;
    const marks = this.staleMarks;
    const revision = await this.readAndDiff();
    if (this.stopped) return;
    this.readRevision = revision;
    if (marks !== this.staleMarks) return; // continuity lost again during the read: read again
    const buffered = this.buffer ?? [];
    this.buffer = undefined;
    for (const event of buffered) this.apply(event);
  }

  /** Reads the subtree and delivers the differences to the cache; returns the read's revision. */
  private async readAndDiff(): Promise<bigint> {
    const { client, codec, path, gate } = this.options;
    const range = codec.subtree(path);
    const response = await gate.run(() =>
      readAcrossTermChanges(
        (deadline) => client.kv.range({ key: range.key, range_end: range.range_end }, { deadline }),
        Date.now() + this.options.requestTimeoutMs,
      ),
    );
    if (this.stopped) return 0n;
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
      this.emit('DELETED', key, old?.value ?? '');
    }
    const present = [...fresh.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of present) {
      const entry = fresh.get(key);
      if (entry === undefined) continue;
      const modRevision = BigInt(entry.kv.mod_revision);
      const old = this.cache.get(key);
      this.cache.set(key, { value: entry.value, modRevision });
      if (old === undefined) this.emit('ADDED', key, entry.value);
      else if (old.modRevision !== modRevision) this.emit('UPDATED', key, entry.value);
    }
    return BigInt(response.header.revision);
  }

  private apply(event: SubtreeEvent): void {
    if (event.revision <= this.readRevision) return; // already in the last read
    // The cache holds the key's state just before this event (see the module docs).
    const { key } = event;
    const old = this.cache.get(key);
    if (event.type === 'Delete') {
      this.cache.delete(key);
      this.emit('DELETED', key, old?.value ?? '');
    } else {
      const value = event.kv.value.toString();
      this.cache.set(key, { value, modRevision: event.revision });
      this.emit(old === undefined ? 'ADDED' : 'UPDATED', key, value);
    }
  }

  private emit(type: RegistryEventType, key: string, value: string): void {
    const path = this.options.codec.toPath(key);
    if (path === undefined || this.stopped) return;
    const event: RegistryEvent = { type, key: path, value };
    try {
      this.options.listener(event);
    } catch (error) {
      this.options.onError(`watch listener of '${this.options.path}' threw on ${type} '${path}'`, error);
    }
  }
}
