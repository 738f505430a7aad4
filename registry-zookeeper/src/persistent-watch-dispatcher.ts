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
   */
  add(root: string, handler: PersistentWatchHandler): void {
    let handlers = this.#byRoot.get(root);
    if (handlers === undefined) {
      handlers = new Set();
      this.#byRoot.set(root, handlers);
    }
    if (handlers.has(handler)) return;
    handlers.add(handler);
    this.#size += 1;
  }

  /** Unregisters a handler; unregistering an absent one does nothing. */
  delete(root: string, handler: PersistentWatchHandler): void {
    const handlers = this.#byRoot.get(root);
    if (handlers === undefined || !handlers.delete(handler)) return;
    this.#size -= 1;
    if (handlers.size === 0) this.#byRoot.delete(root);
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
