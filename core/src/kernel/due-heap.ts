/**
 * {@link DueHeap}: a binary min-heap of entries ordered by due time, then by arrival. Shared by the
 * timer service (callbacks due at a time) and the coordination queue (tasks due at a job's next
 * fire).
 *
 * @module
 */

/** What the heap orders by: `dueMs` first, `seq` (a caller's arrival counter) among equal ones. */
export interface DueEntry {
  readonly dueMs: number;
  readonly seq: number;
}

/** A min-heap on (`dueMs`, `seq`). */
export class DueHeap<T extends DueEntry> {
  readonly #items: T[] = [];

  /** Entries held. */
  get size(): number {
    return this.#items.length;
  }

  /** The first entry, not removed; `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** The entries in heap order (not sorted), for counting. */
  entries(): readonly T[] {
    return this.#items;
  }

  /** Adds `entry`. */
  push(entry: T): void {
    const heap = this.#items;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as T;
      if (!before(entry, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Removes and returns the first entry; `undefined` when empty. */
  pop(): T | undefined {
    const heap = this.#items;
    const top = heap[0];
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as T, heap[left] as T) ? right : left;
      if (!before(heap[child] as T, last)) break;
      heap[i] = heap[child] as T;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: DueEntry, b: DueEntry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}
