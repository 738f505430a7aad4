/**
 * The subtree watches of one client, indexed by their root path, so that finding the watches whose
 * cache may answer for a path costs the path's depth, not the number of watches (one per job:
 * thousands in a process running thousands of jobs).
 *
 * @module
 */
import type { SubtreeWatch } from './subtree-watch.js';
import { parentOf } from './zookeeper-paths.js';

/** A set of {@link SubtreeWatch}es with a lookup by covered path. */
export class WatchIndex implements Iterable<SubtreeWatch> {
  readonly #byRoot = new Map<string, Set<SubtreeWatch>>();

  /** Adds a watch (by its absolute root path). */
  add(watch: SubtreeWatch): void {
    let watches = this.#byRoot.get(watch.rootPath);
    if (watches === undefined) {
      watches = new Set();
      this.#byRoot.set(watch.rootPath, watches);
    }
    watches.add(watch);
  }

  /** Removes a watch; removing one that is absent does nothing. */
  delete(watch: SubtreeWatch): void {
    const watches = this.#byRoot.get(watch.rootPath);
    if (watches === undefined) return;
    watches.delete(watch);
    if (watches.size === 0) this.#byRoot.delete(watch.rootPath);
  }

  /** Removes every watch. */
  clear(): void {
    this.#byRoot.clear();
  }

  /**
   * The watches whose subtree holds `path` (rooted at `path` or at one of its ancestors), nearest
   * root first.
   *
   * @param path - absolute ZooKeeper path.
   */
  *covering(path: string): Generator<SubtreeWatch> {
    for (let root = path; ; root = parentOf(root)) {
      const watches = this.#byRoot.get(root);
      if (watches !== undefined) yield* watches;
      if (root === '/') return;
    }
  }

  [Symbol.iterator](): Iterator<SubtreeWatch> {
    return [...this.#byRoot.values()].flatMap((watches) => [...watches])[Symbol.iterator]();
  }
}
