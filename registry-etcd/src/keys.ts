/**
 * Key layout: registry path `/a/b` of namespace `ns` is the etcd key `/ns/a/b`; the registry root
 * `/` is `/ns` (never stored). Every node is a real key; the children of `K` are the keys in the
 * range `K + '/'` (only direct children count). The adapter's own bookkeeping keys (sequence
 * counters, an idle watch target) live below `/ns/` too, in a first segment starting with NUL,
 * which no registry path can contain: they are never nodes, and a user with read-write rights on
 * the prefix `/ns/` alone can use every feature.
 *
 * @module
 */
import { parentRegistryPath } from '@elasticjob-ts/core/adapter';

/** A half-open etcd key range `[key, range_end)`. */
export interface KeyRange {
  readonly key: Buffer;
  readonly range_end: Buffer;
}

/**
 * The smallest key greater than every key starting with `prefix` (etcd's prefix range end).
 *
 * @param prefix - a non-empty key prefix.
 */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    if ((end[index] ?? 0) < 0xff) {
      end[index] = (end[index] ?? 0) + 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}

/** Maps registry paths of one namespace to etcd keys and back. */
export class KeyCodec {
  /** etcd key of the registry root `/`, e.g. `/ns`. */
  readonly root: string;

  /** @param namespace - a validated namespace. */
  constructor(namespace: string) {
    this.root = `/${namespace}`;
  }

  /** The etcd key of a registry path. */
  toKey(path: string): string {
    return path === '/' ? this.root : this.root + path;
  }

  /**
   * The registry path of an etcd key inside this namespace, or `undefined` for foreign keys and
   * the adapter's bookkeeping keys.
   */
  toPath(key: string): string | undefined {
    if (key === this.root) return '/';
    if (key.startsWith(`${this.root}/`) && !key.includes('\u0000')) return key.slice(this.root.length);
    return undefined;
  }

  /** Whether a child name (a key segment) is a node, not one of the adapter's bookkeeping keys. */
  static isNodeName(name: string): boolean {
    return name !== '' && !name.includes('\u0000');
  }

  /** The range of the direct and indirect children of `path` (keys starting with `key(path) + '/'`). */
  descendants(path: string): KeyRange {
    const prefix = Buffer.from(`${this.toKey(path)}/`);
    return { key: prefix, range_end: prefixEnd(prefix) };
  }

  /**
   * The range holding `path` itself and its whole subtree: `[key, key + '0')` ('0' follows '/').
   * It also holds siblings like `key-x`; callers filter with {@link isInSubtree}.
   */
  subtree(path: string): KeyRange {
    if (path === '/') return this.descendants('/');
    const key = this.toKey(path);
    return { key: Buffer.from(key), range_end: Buffer.from(`${key}0`) };
  }

  /** Whether the etcd key `key` is a node that is `path` itself or lies below it (by whole segments). */
  isInSubtree(key: string, path: string): boolean {
    if (key.includes('\u0000')) return false;
    const own = this.toKey(path);
    return key === own || key.startsWith(`${own}/`);
  }

  /** The etcd key of the sequence counter of the parent of `prefixPath`: `/ns/` NUL `seq` parent. */
  sequenceCounter(prefixPath: string): string {
    const parent = parentRegistryPath(prefixPath);
    return `${this.root}/\u0000seq${parent === '/' ? '' : parent}`;
  }

  /** The etcd key of the idle watch target that keeps the watch stream open. */
  get sentinel(): string {
    return `${this.root}/\u0000sentinel`;
  }

  /** The registry paths of the ancestors of `path`, outermost first, excluding `/` and `path`. */
  static ancestors(path: string): string[] {
    const result: string[] = [];
    let index = path.indexOf('/', 1);
    while (index !== -1) {
      result.push(path.slice(0, index));
      index = path.indexOf('/', index + 1);
    }
    return result;
  }
}
