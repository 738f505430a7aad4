/**
 * One `watch(key, listener)`: an initial snapshot, then the change feed's entries below `key`.
 *
 * The watch subscribes to the feed *before* it reads its snapshot, buffering what arrives; the
 * snapshot script returns the stream id it corresponds to, so buffered entries up to that id
 * (already in the snapshot) are dropped and later ones delivered. A mirror of the subtree lets a
 * re-synchronisation (after a gap in the feed) deliver exactly the differences.
 *
 * @module
 */
import {
  isWithinRegistryPath,
  type RegistryEvent,
  type RegistryWatchListener,
} from '@elasticjob-ts/core/adapter';
import { compareStreamIds, type FeedEntry, type FeedPosition, type FeedSubscriber } from './change-feed.js';

/** A consistent subtree snapshot and the stream id it corresponds to. */
export interface SubtreeSnapshot {
  readonly id: string;
  /** The change feed's revision at that point. */
  readonly revision: number;
  /** Nodes, parents before children. */
  readonly nodes: ReadonlyArray<readonly [string, string]>;
}

/** A watch of one subtree. */
export class SubtreeWatch implements FeedSubscriber {
  private readonly mirror = new Map<string, string>();
  private buffer: FeedEntry[] | undefined = [];
  private skipUntil = '0-0';
  private stopped = false;

  /**
   * @param root - the watched subtree root.
   * @param listener - the user's listener.
   * @param readSnapshot - reads the subtree with its stream id.
   * @param onError - reports a throwing listener.
   */
  constructor(
    readonly root: string,
    private readonly listener: RegistryWatchListener,
    private readonly readSnapshot: (root: string) => Promise<SubtreeSnapshot>,
    private readonly onError: (message: string, error: unknown) => void,
  ) {}

  /** Reads the snapshot, delivers it as `ADDED` events, then the buffered later entries. */
  async initialize(): Promise<void> {
    const snapshot = await this.readSnapshot(this.root);
    this.skipUntil = snapshot.id;
    for (const [key, value] of snapshot.nodes) {
      this.mirror.set(key, value);
      this.emit({ type: 'ADDED', key, value });
    }
    const buffered = this.buffer ?? [];
    this.buffer = undefined;
    for (const entry of buffered) this.apply(entry);
  }

  /** Stops delivery at once. */
  stop(): void {
    this.stopped = true;
  }

  deliver(entry: FeedEntry): void {
    if (this.stopped || !isWithinRegistryPath(entry.key, this.root)) return;
    if (this.buffer !== undefined) this.buffer.push(entry);
    else this.apply(entry);
  }

  async resync(): Promise<FeedPosition> {
    const snapshot = await this.readSnapshot(this.root);
    const next = new Map(snapshot.nodes);
    for (const [key, value] of [...this.mirror].reverse()) {
      if (!next.has(key)) this.emit({ type: 'DELETED', key, value });
    }
    for (const [key, value] of next) {
      const known = this.mirror.get(key);
      if (known === undefined) this.emit({ type: 'ADDED', key, value });
      else if (known !== value) this.emit({ type: 'UPDATED', key, value });
    }
    this.mirror.clear();
    for (const [key, value] of next) this.mirror.set(key, value);
    this.skipUntil = snapshot.id;
    return { id: snapshot.id, revision: snapshot.revision };
  }

  private apply(entry: FeedEntry): void {
    if (compareStreamIds(entry.id, this.skipUntil) <= 0) return;
    if (entry.type === 'DELETED') this.mirror.delete(entry.key);
    else this.mirror.set(entry.key, entry.value);
    this.emit({ type: entry.type, key: entry.key, value: entry.value });
  }

  private emit(event: RegistryEvent): void {
    if (this.stopped) return;
    try {
      this.listener(event);
    } catch (error) {
      this.onError(`watch listener of '${this.root}' threw`, error);
    }
  }
}
