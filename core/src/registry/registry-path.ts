/**
 * Registry path helpers. A registry path is relative to the client's namespace, starts with `/`,
 * has no empty segment, no trailing `/`, and no `.`/`..` segment; the root is `/`.
 * Every {@link CoordinatorRegistryCenter} method validates its key with {@link assertRegistryPath}.
 *
 * @module
 */

/** One or more `/segment`s, no segment empty, `.` or `..`: the segment checks below in one pass. */
const VALID_NON_ROOT_PATH = /^(?:\/(?!\.{1,2}(?:\/|$))[^/]+)+$/;

/**
 * Throws a `TypeError` naming `path` unless it is a valid registry path.
 *
 * @param path - the key to check, e.g. `/orders/sharding/0/instance`.
 * @param allowRoot - whether `/` itself is accepted (default `true`).
 * @throws {TypeError} when `path` is not a string, is empty, lacks the leading `/`, ends with `/`,
 *   contains an empty, `.` or `..` segment, or contains a NUL character.
 */
export function assertRegistryPath(path: unknown, allowRoot = true): asserts path is string {
  if (typeof path === 'string' && VALID_NON_ROOT_PATH.test(path) && !path.includes('\u0000')) return;
  if (typeof path !== 'string') {
    throw new TypeError(`Registry path must be a string, got ${typeof path}`);
  }
  if (path === '/') {
    if (!allowRoot) throw new TypeError(`Registry path '/' (the root) is not allowed here`);
    return;
  }
  if (!path.startsWith('/')) {
    throw new TypeError(`Registry path '${path}' must start with '/'`);
  }
  if (path.endsWith('/')) {
    throw new TypeError(`Registry path '${path}' must not end with '/'`);
  }
  if (path.includes('\u0000')) {
    throw new TypeError(`Registry path '${path}' must not contain a NUL character`);
  }
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') throw new TypeError(`Registry path '${path}' has an empty segment`);
    if (segment === '.' || segment === '..') {
      throw new TypeError(`Registry path '${path}' has a relative segment '${segment}'`);
    }
  }
}

/**
 * Joins a base path and child segments: `joinRegistryPath('/orders', 'sharding', 0)` →
 * `/orders/sharding/0`.
 *
 * @param base - a valid registry path (may be `/`).
 * @param segments - child names; each must be non-empty and contain no `/`.
 * @returns the joined path.
 * @throws {TypeError} when `base` is invalid or a segment is empty or contains `/`.
 */
export function joinRegistryPath(base: string, ...segments: Array<string | number>): string {
  assertRegistryPath(base);
  let result = base === '/' ? '' : base;
  for (const raw of segments) {
    const segment = String(raw);
    if (segment === '' || segment.includes('/')) {
      throw new TypeError(`Registry path segment '${segment}' must be non-empty and contain no '/'`);
    }
    result += `/${segment}`;
  }
  return result === '' ? '/' : result;
}

/**
 * The parent of a registry path: `/a/b` → `/a`, `/a` → `/`.
 *
 * @param path - a valid registry path other than `/`.
 * @returns the parent path.
 * @throws {TypeError} when `path` is invalid or is the root.
 */
export function parentRegistryPath(path: string): string {
  assertRegistryPath(path, false);
  const index = path.lastIndexOf('/');
  return index === 0 ? '/' : path.slice(0, index);
}

/**
 * The last segment of a registry path: `/a/b` → `b`.
 *
 * @param path - a valid registry path other than `/`.
 * @returns the node's name.
 * @throws {TypeError} when `path` is invalid or is the root.
 */
export function registryPathName(path: string): string {
  assertRegistryPath(path, false);
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Whether `path` is `ancestor` itself or lies below it, by whole segments: `/a/b` is within `/a`,
 * `/a/bc` is not within `/a/b`.
 *
 * @param path - a valid registry path.
 * @param ancestor - a valid registry path.
 * @returns `true` when `path` equals `ancestor` or is a descendant of it.
 */
export function isWithinRegistryPath(path: string, ancestor: string): boolean {
  if (ancestor === '/') return path.startsWith('/');
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * ElasticJob's children order: descending by UTF-16 code units (Java's natural `String` order
 * reversed), e.g. `9, 8, 2, 10, 1, 0`. It decides instance order in sharding and the failover
 * claim order, so every adapter must return children in exactly this order.
 *
 * @param names - child names.
 * @returns a new array sorted descending.
 */
export function sortChildrenDescending(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}
