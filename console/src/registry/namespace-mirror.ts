/**
 * {@link NamespaceMirror}: one watch on the namespace root keeps an in-memory copy of every node, so
 * the console's views cost no registry round trip and every change reaches the browser as an event.
 *
 * ElasticJob-UI re-reads the registry node by node for every page (a thousand jobs cost tens of
 * thousands of reads); here the registry pushes changes and the views are computed from the copy.
 *
 * @module
 */
import type { CoordinatorRegistryCenter, RegistryEvent, RegistryUnwatch } from '@elasticjob-ts/core';

/** Receives every change applied to the mirror, after it was applied. */
export type MirrorListener = (event: RegistryEvent) => void;

function parentOf(key: string): string | undefined {
  if (key === '/') return undefined;
  const index = key.lastIndexOf('/');
  return index <= 0 ? '/' : key.slice(0, index);
}

function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * The namespace as last reported by the registry's watch (see `CoordinatorRegistryCenter.watch`:
 * commit order per key, convergence, real values). Reads are synchronous and never touch the
 * network; they lag the server by the watch's delivery delay. Parents that exist only implicitly
 * (etcd keys have no parent nodes) exist here as long as they have children.
 *
 * @example
 * ```ts
 * const mirror = await NamespaceMirror.start(registry);
 * mirror.onChange((event) => console.log(event.type, event.key));
 * console.log(mirror.children('/')); // job names and other root nodes
 * await mirror.close();
 * ```
 */
export class NamespaceMirror {
  readonly #values = new Map<string, string>();
  readonly #children = new Map<string, Set<string>>();
  readonly #listeners = new Set<MirrorListener>();
  #unwatch: RegistryUnwatch | undefined;

  private constructor() {}

  /**
   * Watches the whole namespace of `registry` and resolves once the initial snapshot is mirrored.
   *
   * @param registry - a started registry client (not closed by the mirror).
   * @throws {RegistryError} when the watch cannot be set up.
   */
  static async start(registry: CoordinatorRegistryCenter): Promise<NamespaceMirror> {
    const mirror = new NamespaceMirror();
    mirror.#unwatch = await registry.watch('/', (event) => mirror.#apply(event));
    return mirror;
  }

  /** Stops the watch; the mirror keeps its last state. Idempotent. */
  async close(): Promise<void> {
    const unwatch = this.#unwatch;
    this.#unwatch = undefined;
    this.#listeners.clear();
    await unwatch?.();
  }

  /**
   * Registers a listener for every later change.
   * @returns a function removing it.
   */
  onChange(listener: MirrorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The node's value; `undefined` when absent (or an implicit parent without a value). */
  get(key: string): string | undefined {
    return this.#values.get(key);
  }

  /** Whether the node exists (has a value, or has children). */
  exists(key: string): boolean {
    return this.#values.has(key) || (this.#children.get(key)?.size ?? 0) > 0;
  }

  /** Child names of `key`, sorted ascending; `[]` when none. */
  children(key: string): string[] {
    return [...(this.#children.get(key) ?? [])].sort();
  }

  /** Number of nodes with a value. */
  get size(): number {
    return this.#values.size;
  }

  #apply(event: RegistryEvent): void {
    if (event.type === 'DELETED') this.#remove(event.key);
    else this.#set(event.key, event.value);
    for (const listener of this.#listeners) listener(event);
  }

  #set(key: string, value: string): void {
    this.#values.set(key, value);
    let child = key;
    for (let parent = parentOf(child); parent !== undefined; parent = parentOf(child)) {
      let set = this.#children.get(parent);
      if (set === undefined) {
        set = new Set();
        this.#children.set(parent, set);
      }
      set.add(nameOf(child));
      child = parent;
    }
  }

  #remove(key: string): void {
    this.#values.delete(key);
    for (const name of this.#children.get(key) ?? [])
      this.#remove(key === '/' ? `/${name}` : `${key}/${name}`);
    this.#children.delete(key);
    // Unlink the node, then every implicit ancestor left without a value or children.
    let child = key;
    for (let parent = parentOf(child); parent !== undefined; parent = parentOf(child)) {
      this.#children.get(parent)?.delete(nameOf(child));
      if (this.exists(parent)) break;
      this.#children.delete(parent);
      child = parent;
    }
  }
}
