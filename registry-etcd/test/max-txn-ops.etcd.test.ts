/**
 * `maxTxnOps`: the client sizes its transactions from the servers' `--max-txn-ops` (its declared
 * operation count, and its meter), on real etcd servers started with 1024 and with the default 128.
 */
import { RegistryError, type RegistryTransactionOperation } from '@elasticjob-ts/core';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdRegistryCenter } from '../src/index.js';

let wide: EtcdTestServer;
let standard: EtcdTestServer;
const clients: EtcdRegistryCenter[] = [];

beforeAll(async () => {
  [wide, standard] = await Promise.all([
    startEtcdServer({ extraArgs: ['--max-txn-ops', '1024'] }),
    startEtcdServer(),
  ]);
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await Promise.all([wide?.stop(), standard?.stop()]);
});

async function started(server: EtcdTestServer, ns: string, maxTxnOps?: number): Promise<EtcdRegistryCenter> {
  const client = new EtcdRegistryCenter({
    type: 'etcd',
    endpoints: server.endpoints,
    namespace: ns,
    ...(maxTxnOps === undefined ? {} : { maxTxnOps }),
  });
  clients.push(client);
  await client.start();
  return client;
}

const creates = (count: number): RegistryTransactionOperation[] =>
  Array.from({ length: count }, (_, i) => ({ type: 'create', key: `/t/k${i}`, value: `${i}` }));

describe('maxTxnOps', () => {
  it('declares floor(maxTxnOps / 2) operations per transaction: 64 by default, 512 for servers at 1024', async () => {
    expect((await started(standard, 'cap-default')).capabilities.maxTransactionOperations).toBe(64);
    expect((await started(wide, 'cap-wide', 1024)).capabilities.maxTransactionOperations).toBe(512);
  });

  it('commits a transaction of the declared size as one Txn on servers configured for it', async () => {
    const client = await started(wide, 'commit-wide', 1024);
    await client.persist('/t', '');
    const size = client.capabilities.maxTransactionOperations as number;
    await client.executeInTransaction(creates(size));
    expect(await client.getNumChildren('/t')).toBe(size);
  });

  it('commits the declared size at the default 128 whatever the operations compile to: creates under distinct parents, value checks, deletes', async () => {
    const client = await started(standard, 'worst-default');
    const size = client.capabilities.maxTransactionOperations as number;
    await client.persist('/p', '');
    for (let i = 0; i < size; i++) await client.persist(`/p/${i}`, `${i}`);
    // Each create: its parent present and itself absent, two compares (128 in all).
    await client.executeInTransaction(
      Array.from(
        { length: size },
        (_, i): RegistryTransactionOperation => ({ type: 'create', key: `/p/${i}/c`, value: 'x' }),
      ),
    );
    // Each value check and update: one compare and one put.
    await client.executeInTransaction(
      Array.from({ length: size / 2 }, (_, i): RegistryTransactionOperation[] => [
        { type: 'check', key: `/p/${i}`, value: `${i}` },
        { type: 'update', key: `/p/${i}`, value: `${i}+` },
      ]).flat(),
    );
    expect(await client.get(`/p/0`)).toBe('0+');
    // Each delete: the key and its subtree range, two requests (128 in all).
    await client.executeInTransaction(
      Array.from(
        { length: size },
        (_, i): RegistryTransactionOperation => ({ type: 'delete', key: `/p/${i}` }),
      ),
    );
    expect(await client.getNumChildren('/p')).toBe(0);
  });

  it('packs a 64-item admission into 2 Txns and its clear into 1 by its meter at the default 128, and the server takes them', async () => {
    const client = await started(standard, 'metered');
    const items = Array.from({ length: 64 }, (_, item) => item);
    await client.persist('/job/instances/me', '');
    for (const item of items) {
      await client.persist(`/job/sharding/${item}/instance`, 'me');
      await client.persist(`/job/sharding/${item}/fencing`, '7');
    }
    const fence: RegistryTransactionOperation = { type: 'check', key: '/job/instances/me' };
    /** Packs the groups behind the fence the way the kernel's admission does. */
    const pack = (groups: RegistryTransactionOperation[][]) => {
      const transactions: RegistryTransactionOperation[][] = [];
      let meter = client.openTransactionMeter();
      meter.tryAdd([fence]);
      let transaction: RegistryTransactionOperation[] = [fence];
      for (const group of groups) {
        if (!meter.tryAdd(group)) {
          transactions.push(transaction);
          meter = client.openTransactionMeter();
          meter.tryAdd([fence, ...group]);
          transaction = [fence];
        }
        transaction.push(...group);
      }
      transactions.push(transaction);
      return transactions;
    };
    const admission = pack(
      items.map((item) => [
        { type: 'check', key: `/job/sharding/${item}/instance`, value: 'me' },
        { type: 'create', key: `/job/sharding/${item}/running`, value: 'me' },
        { type: 'check', key: `/job/sharding/${item}/fencing`, value: '7' },
        { type: 'update', key: `/job/sharding/${item}/fencing`, value: '8' },
      ]),
    );
    expect(admission).toHaveLength(2);
    for (const transaction of admission) await client.executeInTransaction(transaction);
    expect(await client.get('/job/sharding/63/running')).toBe('me');
    expect(await client.get('/job/sharding/0/fencing')).toBe('8');
    const clear = pack(
      items.map((item) => [
        { type: 'check', key: `/job/sharding/${item}/running`, value: 'me' },
        { type: 'delete', key: `/job/sharding/${item}/running` },
      ]),
    );
    expect(clear).toHaveLength(1);
    await client.executeInTransaction(clear[0] as RegistryTransactionOperation[]);
    expect(await client.isExisted('/job/sharding/0/running')).toBe(false);
    expect(await client.isExisted('/job/sharding/63/running')).toBe(false);
  });

  it('a value check of an absent node fails the transaction with NO_NODE naming it', async () => {
    const client = await started(standard, 'absent-check');
    await client.persist('/t', '');
    const error = await client
      .executeInTransaction([
        { type: 'create', key: '/t/a', value: '1' },
        { type: 'check', key: '/t/missing', value: 'v' },
      ])
      .catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'TRANSACTION_FAILED')).toBe(true);
    expect((error as RegistryError).failedOperationIndex).toBe(1);
    expect(RegistryError.is((error as RegistryError).cause, 'NO_NODE')).toBe(true);
    expect(await client.getNumChildren('/t')).toBe(0);
  });

  it('a client claiming more than its servers allow gets TRANSACTION_FAILED for a large transaction, and nothing is written', async () => {
    const client = await started(standard, 'over', 1024);
    await client.persist('/t', '');
    const error = await client.executeInTransaction(creates(150)).catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'TRANSACTION_FAILED')).toBe(true);
    expect(String((error as Error).message) + String((error as Error).cause)).toMatch(/too many operations/);
    expect(await client.getNumChildren('/t')).toBe(0);
  });
});
