/**
 * Routing of the watch notifications of one ZooKeeper connection to the handlers of its subtree
 * watches, by root path. The connection holds one persistent recursive watch over the namespace
 * (see `ZookeeperConnection.watchPersistently`), and ZooKeeper sends one notification per change
 * and connection, so every handler whose root is the path or one of its ancestors receives it.
 * Finding them costs the path's depth; a notification no handler covers is dropped.
 *
 * @module
 */
import { parentOf } from './zookeeper-paths.js';

/** Receives a notification: type as numbered by `node-zookeeper-client`, absolute path. */
export type PersistentWatchHandler = (type: number, path: string) => void;

/** The persistent recursive watch handlers of one connection, by root path. */
export class PersistentWatchDispatcher {
  readonly #byRoot = new Map<string, Set<PersistentWatchHandler>>();
  #size = 0;

  /** How many handlers are registered, over all roots. */
  get size(): number {
    return this.#size;
  }

  /**
   * Registers a handler for the subtree at `root` (registering it twice does nothing).
   *
   * @param root - absolute path of the watched node.
   * @returns whether `root` had no handler before.
   */
  add(root: string, handler: PersistentWatchHandler): boolean {
    let handlers = this.#byRoot.get(root);
    const first = handlers === undefined;
    if (handlers === undefined) {
      handlers = new Set();
      this.#byRoot.set(root, handlers);
    }
    if (!handlers.has(handler)) {
      handlers.add(handler);
      this.#size += 1;
    }
    return first;
  }

  /**
   * Unregisters a handler; unregistering an absent one does nothing.
   *
   * @returns whether `root` has no handler left.
   */
  delete(root: string, handler: PersistentWatchHandler): boolean {
    const handlers = this.#byRoot.get(root);
    if (handlers === undefined) return false;
    if (handlers.delete(handler)) this.#size -= 1;
    if (handlers.size > 0) return false;
    this.#byRoot.delete(root);
    return true;
  }

  /**
   * Hands a notification to every handler whose root covers `path`, nearest root first.
   *
   * @param type - notification type.
   * @param path - absolute path the notification is about.
   */
  dispatch(type: number, path: string): void {
    for (let root = path; ; root = parentOf(root)) {
      const handlers = this.#byRoot.get(root);
      if (handlers !== undefined) for (const handler of [...handlers]) handler(type, path);
      if (root === '/') return;
    }
  }
}
