/**
 * A local copy of one job's registry subtree, kept current by one subtree watch, so the per-fire
 * path reads memory instead of the registry (ElasticJob reads through a CuratorCache too, but
 * mixes cached and direct reads; here decisions that need read-your-writes use direct reads).
 *
 * @module
 */
import type {
  CoordinatorRegistryCenter,
  RegistryEvent,
  RegistryUnwatch,
} from '../registry/registry-center.js';

/** A watch-backed map of path → value for one subtree, with a children index. */
export class JobCache {
  readonly #values = new Map<string, string>();
  readonly #children = new Map<string, Set<string>>();
  #unwatch: RegistryUnwatch | undefined;

  /**
   * @param registry - the registry to watch.
   * @param root - subtree root, e.g. `/orders`.
   * @param onEvent - called after the cache applied each event (including the initial snapshot).
   */
  constructor(
    private readonly registry: CoordinatorRegistryCenter,
    readonly root: string,
    private readonly onEvent: (event: RegistryEvent) => void,
  ) {}

  /** Starts the watch; resolves once the initial snapshot is loaded. */
  async start(): Promise<void> {
    this.#unwatch = await this.registry.watch(this.root, (event) => {
      this.#apply(event);
      this.onEvent(event);
    });
  }

  /** Stops the watch. Idempotent. */
  async close(): Promise<void> {
    const unwatch = this.#unwatch;
    this.#unwatch = undefined;
    if (unwatch) await unwatch();
  }

  /** Cached value, `undefined` when absent. */
  get(path: string): string | undefined {
    return this.#values.get(path);
  }

  /** Whether the node is cached as present. */
  has(path: string): boolean {
    return this.#values.has(path);
  }

  /** Cached child names of `path`, in no particular order. */
  children(path: string): string[] {
    return [...(this.#children.get(path) ?? [])];
  }

  #apply(event: RegistryEvent): void {
    const { key } = event;
    if (event.type === 'DELETED') {
      this.#values.delete(key);
      const slash = key.lastIndexOf('/');
      this.#children.get(slash <= 0 ? '/' : key.slice(0, slash))?.delete(key.slice(slash + 1));
      // A recursive delete may report only the top node on some backends: drop the subtree too.
      // The children index holds every cached path's ancestors, so the walk finds all of it.
      this.#dropDescendants(key);
      return;
    }
    const known = this.#values.has(key);
    this.#values.set(key, event.value);
    if (!known) this.#link(key);
  }

  /** Records `path` under its parent, and each ancestor under its own, up to the root. */
  #link(path: string): void {
    let child = path;
    while (child !== this.root && child.length > this.root.length) {
      const slash = child.lastIndexOf('/');
      const parent = slash <= 0 ? '/' : child.slice(0, slash);
      const name = child.slice(slash + 1);
      let set = this.#children.get(parent);
      if (set === undefined) {
        set = new Set();
        this.#children.set(parent, set);
      } else if (set.has(name)) {
        return;
      }
      set.add(name);
      child = parent;
    }
  }

  #dropDescendants(path: string): void {
    const names = this.#children.get(path);
    if (names === undefined) return;
    this.#children.delete(path);
    for (const name of names) {
      const child = `${path}/${name}`;
      this.#values.delete(child);
      this.#dropDescendants(child);
    }
  }
}
