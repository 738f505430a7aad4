/**
 * The kernel's transaction packing (`transaction-chunks.ts`) asks the registry's meter, and
 * counts operations against `capabilities.maxTransactionOperations` only without one. A memory
 * registry records each transaction it commits; its meter here counts distinct keys, a measure
 * unlike the operation count, so that a chunking by count would show.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegistryCapabilities, RegistryTransactionOperation, TransactionMeter } from '../src/index.js';
import { executeGroupsInChunks, executeInChunks, packGroups } from '../src/kernel/transaction-chunks.js';

/** Takes groups while the transaction touches at most `maxKeys` distinct keys. */
class DistinctKeyMeter implements TransactionMeter {
  readonly #keys = new Set<string>();
  size = 0;
  constructor(private readonly maxKeys: number) {}
  tryAdd(operations: readonly RegistryTransactionOperation[]): boolean {
    const keys = new Set([...this.#keys, ...operations.map((operation) => operation.key)]);
    if (this.size > 0 && keys.size > this.maxKeys) return false;
    for (const key of keys) this.#keys.add(key);
    this.size += operations.length;
    return true;
  }
}

/** A memory registry that records its transactions, with a meter or a declared operation bound. */
class RecordingRegistry extends MemoryRegistryCenter {
  readonly transactions: string[][] = [];
  override readonly capabilities: RegistryCapabilities;
  readonly openTransactionMeter: (() => TransactionMeter) | undefined;

  constructor(server: MemoryRegistryServer, bound: { maxKeys: number } | { maxOperations: number }) {
    super({ server, namespace: 'chunks' });
    this.capabilities = {
      authentication: false,
      registryCenterTimeResolutionMs: 1,
      maxTransactionOperations: 'maxOperations' in bound ? bound.maxOperations : 1000,
    };
    this.openTransactionMeter = 'maxKeys' in bound ? () => new DistinctKeyMeter(bound.maxKeys) : undefined;
  }

  override async executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    this.transactions.push(operations.map((operation) => `${operation.type} ${operation.key}`));
    await super.executeInTransaction(operations);
  }
}

const registries: RecordingRegistry[] = [];

async function started(bound: { maxKeys: number } | { maxOperations: number }): Promise<RecordingRegistry> {
  const registry = new RecordingRegistry(new MemoryRegistryServer(), bound);
  registries.push(registry);
  await registry.start();
  await registry.persist('/j/gate', '');
  return registry;
}

afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.close()));
});

const create = (name: string): RegistryTransactionOperation => ({ type: 'create', key: `/j/${name}` });

describe('executeGroupsInChunks', () => {
  it("packs groups as the registry's meter allows, not by operation count", async () => {
    const registry = await started({ maxKeys: 5 });
    // Each group: the shared check of /j (one key for all) and a create of its own.
    const groups = Array.from({ length: 6 }, (_, i) => [
      { type: 'check', key: '/j' } as const,
      create(`n${i}`),
    ]);
    expect(await executeGroupsInChunks(registry, groups)).toEqual([true, true, true, true, true, true]);
    expect(registry.transactions.map((transaction) => transaction.length)).toEqual([8, 4]);
    expect(await registry.getChildrenKeys('/j')).toHaveLength(7);
  });

  it('sends a group the meter refuses beside others alone, and retries the groups of a failed chunk one by one', async () => {
    const registry = await started({ maxKeys: 3 });
    const large = ['a', 'b', 'c', 'd'].map(create);
    const failing: RegistryTransactionOperation[] = [{ type: 'check', key: '/j/absent' }, create('e')];
    const committed = await executeGroupsInChunks(registry, [[create('x')], large, failing, [create('f')]]);
    expect(committed).toEqual([true, true, false, true]);
    expect(registry.transactions).toEqual([
      ['create /j/x'],
      ['create /j/a', 'create /j/b', 'create /j/c', 'create /j/d'],
      ['check /j/absent', 'create /j/e', 'create /j/f'],
      ['check /j/absent', 'create /j/e'],
      ['create /j/f'],
    ]);
  });

  it('counts operations against capabilities.maxTransactionOperations without a meter', async () => {
    const registry = await started({ maxOperations: 3 });
    const groups = Array.from({ length: 5 }, (_, i) => [
      { type: 'check', key: '/j' } as const,
      create(`n${i}`),
    ]);
    expect(await executeGroupsInChunks(registry, groups)).toEqual([true, true, true, true, true]);
    expect(registry.transactions.map((transaction) => transaction.length)).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('executeInChunks', () => {
  it('repeats the prefix in every chunk the meter allows and puts the last operations in the final one', async () => {
    const registry = await started({ maxKeys: 5 });
    const operations = Array.from({ length: 8 }, (_, i) => create(`n${i}`));
    await executeInChunks(registry, operations, {
      prefix: [{ type: 'check', key: '/j' }],
      last: [{ type: 'delete', key: '/j/gate' }],
    });
    expect(registry.transactions).toEqual([
      ['check /j', 'create /j/n0', 'create /j/n1', 'create /j/n2', 'create /j/n3'],
      ['check /j', 'create /j/n4', 'create /j/n5', 'create /j/n6', 'create /j/n7'],
      ['check /j', 'delete /j/gate'],
    ]);
    expect(await registry.getChildrenKeys('/j')).toHaveLength(8);
  });

  it('adds the last operations to the final chunk when the meter takes them there', async () => {
    const registry = await started({ maxKeys: 5 });
    await executeInChunks(registry, [create('a'), create('b')], {
      prefix: [{ type: 'check', key: '/j' }],
      last: [{ type: 'delete', key: '/j/gate' }],
    });
    expect(registry.transactions).toEqual([['check /j', 'create /j/a', 'create /j/b', 'delete /j/gate']]);
  });
});

describe('packGroups', () => {
  it('gives a group the meter refuses beside the prefix alone a transaction of its own, and packs the next ones anew', async () => {
    const registry = await started({ maxKeys: 3 });
    const prefix: RegistryTransactionOperation[] = [{ type: 'check', key: '/j' }];
    const large = ['a', 'b', 'c'].map(create);
    expect(packGroups(registry, [[create('x')], large, [create('y')], [create('z')]], prefix)).toEqual([
      [0],
      [1],
      [2, 3],
    ]);
    expect(packGroups(registry, [], prefix)).toEqual([]);
  });
});
