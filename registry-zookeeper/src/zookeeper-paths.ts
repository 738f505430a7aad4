/**
 * Absolute ZooKeeper path arithmetic shared by the watch modules (paths are `/`-separated, start
 * with `/`, and have no trailing `/` except the root itself).
 *
 * @module
 */

/** The parent of an absolute path (`/` for a top-level node and for `/` itself). */
export function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/** The last segment of an absolute path. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The absolute path of child `name` of `parent`. */
export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}
