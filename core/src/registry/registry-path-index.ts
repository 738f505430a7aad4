/**
 * Values registered under registry paths (typically watch registrations under their subtree roots),
 * looked up by the paths they cover. Finding the registrations that cover a changed node costs the
 * node's depth, not the number of registrations: a process running thousands of jobs holds one
 * watch per job, and every registry change would otherwise be compared with all of them.
 *
 * @module
 */
/** Char code of `/`. */
const SLASH = 47;

/**
 * A set of values, each registered under one root path, with a lookup of the values whose root is a
 * given path or one of its ancestors. Iteration and lookups yield values in the order they were
 * added, so replacing a list scanned in insertion order keeps every observable order.
 *
 * @typeParam T - the registered value (compared by identity).
 */
export class RegistryPathIndex<T> implements Iterable<T> {
  readonly #byRoot = new Map<string, Set<T>>();
  /** Every value with its root, in insertion order; the number gives the order in lookups. */
  readonly #entries = new Map<T, { readonly root: string; readonly order: number }>();
  /**
   * The lengths of the roots in {@link #byRoot}, and how many roots have each: a lookup tries only
   * the ancestors of a path that are that long (one or two, where there are thousands of roots of
   * a few lengths, instead of every ancestor: a slice and a hash each).
   */
  readonly #rootLengths = new Map<number, number>();
  #added = 0;

  /** Number of registered values. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Registers `value` under `root`. A value already registered keeps its first root and order.
   *
   * @param root - an absolute registry path, e.g. `/namespace/job`.
   * @param value - the value to find for paths within `root`.
   */
  add(root: string, value: T): void {
    if (this.#entries.has(value)) return;
    this.#entries.set(value, { root, order: this.#added++ });
    let values = this.#byRoot.get(root);
    if (values === undefined) {
      values = new Set();
      this.#byRoot.set(root, values);
      this.#rootLengths.set(root.length, (this.#rootLengths.get(root.length) ?? 0) + 1);
    }
    values.add(value);
  }

  /**
   * Removes `value`; removing one that is absent does nothing.
   *
   * @param value - a value passed to {@link RegistryPathIndex.add}.
   */
  delete(value: T): void {
    const entry = this.#entries.get(value);
    if (entry === undefined) return;
    this.#entries.delete(value);
    const values = this.#byRoot.get(entry.root);
    values?.delete(value);
    if (values?.size === 0) {
      this.#byRoot.delete(entry.root);
      const roots = (this.#rootLengths.get(entry.root.length) ?? 1) - 1;
      if (roots === 0) this.#rootLengths.delete(entry.root.length);
      else this.#rootLengths.set(entry.root.length, roots);
    }
  }

  /** Removes every value. */
  clear(): void {
    this.#entries.clear();
    this.#byRoot.clear();
    this.#rootLengths.clear();
  }

  /**
   * The values whose root is `path` or an ancestor of it (by whole segments: `/a/b`
   * covers `/a/b/c`, not `/a/bc`), in the order they were added.
   *
   * @param path - an absolute registry path.
   * @returns a new array (empty when none covers `path`).
   */
  covering(path: string): T[] {
    const found: T[] = [];
    for (const length of this.#rootLengths.keys()) {
      // `path` itself, `/`, or an ancestor ending at a segment boundary.
      const ancestor =
        length === path.length || length === 1 || (length < path.length && path.charCodeAt(length) === SLASH);
      const values = ancestor ? this.#byRoot.get(path.slice(0, length)) : undefined;
      if (values !== undefined) found.push(...values);
    }
    if (found.length > 1) {
      found.sort((a, b) => (this.#entries.get(a)?.order ?? 0) - (this.#entries.get(b)?.order ?? 0));
    }
    return found;
  }

  /** Every value, in the order added. */
  [Symbol.iterator](): Iterator<T> {
    return this.#entries.keys();
  }
}
