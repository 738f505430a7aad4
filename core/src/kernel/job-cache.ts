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
    const slash = key.lastIndexOf('/');
    const parent = slash <= 0 ? '/' : key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (event.type === 'DELETED') {
      this.#values.delete(key);
      this.#children.get(parent)?.delete(name);
      // A recursive delete may report only the top node on some backends: drop the subtree too.
      const prefix = `${key}/`;
      for (const path of [...this.#values.keys()]) {
        if (path.startsWith(prefix)) this.#values.delete(path);
      }
      for (const path of [...this.#children.keys()]) {
        if (path === key || path.startsWith(prefix)) this.#children.delete(path);
      }
    } else {
      this.#values.set(key, event.value);
      if (key !== this.root) {
        let set = this.#children.get(parent);
        if (set === undefined) {
          set = new Set();
          this.#children.set(parent, set);
        }
        set.add(name);
      }
    }
  }
}
