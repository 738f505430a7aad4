/**
 * {@link MirrorReadRegistry}: a read-only {@link CoordinatorRegistryCenter} served from a
 * {@link NamespaceMirror}, so core's statistics APIs compute the console's views with their own
 * rules (job status, item status) at no registry cost.
 *
 * @module
 */
import {
  type CoordinatorRegistryCenter,
  type RegistryCapabilities,
  RegistryError,
  type RegistryUnwatch,
} from '@elasticjob-ts/core';
import type { NamespaceMirror } from './namespace-mirror.js';

function readOnly(operation: string): Promise<never> {
  return Promise.reject(
    new RegistryError(
      'NOT_SUPPORTED',
      `${operation}: the console's mirror is read-only; use the live client`,
    ),
  );
}

/**
 * Reads (`get`, `getDirectly`, `isExisted`, `getChildrenKeys`, `getNumChildren`) answer from the
 * mirror; every write, latch, watch and time call rejects with `NOT_SUPPORTED`. "Directly" here
 * means "as last reported by the watch": views may lag the server by the watch's delivery delay,
 * which is why operations always go through the live client.
 */
export class MirrorReadRegistry implements CoordinatorRegistryCenter {
  /**
   * @param mirror - the mirror to read.
   * @param live - the live client the mirror watches (for `namespace` and `capabilities`).
   */
  constructor(
    readonly mirror: NamespaceMirror,
    private readonly live: CoordinatorRegistryCenter,
  ) {}

  /** The live client's capabilities. */
  get capabilities(): RegistryCapabilities {
    return this.live.capabilities;
  }

  /** The live client's namespace. */
  get namespace(): string {
    return this.live.namespace;
  }

  /** No-op: the mirror is started by its owner. */
  async start(): Promise<void> {}

  /** No-op: the mirror is closed by its owner. */
  async close(): Promise<void> {}

  /** The mirrored value. */
  async get(key: string): Promise<string | undefined> {
    return this.mirror.get(key);
  }

  /** The mirrored value (not a server read; see the class note). */
  async getDirectly(key: string): Promise<string | undefined> {
    return this.mirror.get(key);
  }

  /** Whether the mirrored node exists. */
  async isExisted(key: string): Promise<boolean> {
    return this.mirror.exists(key);
  }

  /** Mirrored child names, sorted descending like the adapters' children order. */
  async getChildrenKeys(key: string): Promise<string[]> {
    return this.mirror.children(key).reverse();
  }

  /** Number of mirrored children. */
  async getNumChildren(key: string): Promise<number> {
    return this.mirror.children(key).length;
  }

  persist(): Promise<void> {
    return readOnly('persist');
  }

  update(): Promise<void> {
    return readOnly('update');
  }

  persistEphemeral(): Promise<void> {
    return readOnly('persistEphemeral');
  }

  persistSequential(): Promise<string> {
    return readOnly('persistSequential');
  }

  persistEphemeralSequential(): Promise<string> {
    return readOnly('persistEphemeralSequential');
  }

  remove(): Promise<void> {
    return readOnly('remove');
  }

  getRegistryCenterTime(): Promise<number> {
    return readOnly('getRegistryCenterTime');
  }

  executeInTransaction(): Promise<void> {
    return readOnly('executeInTransaction');
  }

  executeInLeader<T>(): Promise<T> {
    return readOnly('executeInLeader');
  }

  watch(): Promise<RegistryUnwatch> {
    return readOnly('watch');
  }

  confirmSession(): Promise<void> {
    return readOnly('confirmSession');
  }

  addConnectionStateListener(): () => void {
    return () => {};
  }
}
