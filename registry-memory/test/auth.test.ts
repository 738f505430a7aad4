import { RegistryError } from '@elasticjob-ts/core';
import { describe, expect, it, vi } from 'vitest';
import { compact, record, useMemoryRegistry } from './helpers.js';

describe('digest authentication (creator-only ACLs)', () => {
  const registry = useMemoryRegistry();

  it('declares the capability', async () => {
    const client = await registry.client();
    expect(client.capabilities).toEqual({
      authentication: true,
      registryCenterTimeResolutionMs: 1,
      maxTransactionOperations: 1000,
    });
  });

  it('refuses another identity reading, writing, deleting or creating children', async () => {
    const owner = await registry.client({ digest: 'alice:secret' });
    const sameIdentity = await registry.client({ digest: 'alice:secret' });
    const anonymous = await registry.client();
    const wrongPassword = await registry.client({ digest: 'alice:guess' });
    await owner.persist('/secure/config', 'v');

    for (const other of [anonymous, wrongPassword]) {
      await expect(other.get('/secure/config')).rejects.toMatchObject({
        code: 'NO_AUTH',
        path: '/secure/config',
      });
      await expect(other.getDirectly('/secure/config')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.getChildrenKeys('/secure')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.update('/secure/config', 'x')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.persist('/secure/config', 'x')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.persist('/secure/config/child', 'x')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.persistEphemeral('/secure/e', 'x')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.persistSequential('/secure/s-', 'x')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.remove('/secure')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(other.watch('/secure', () => {})).rejects.toSatisfy((error) =>
        RegistryError.is(error, 'NO_AUTH'),
      );
      await expect(other.executeInLeader('/secure/latch', () => 1)).rejects.toMatchObject({
        code: 'NO_AUTH',
      });
      expect(await other.isExisted('/secure/config')).toBe(true);
    }
    expect(await owner.get('/secure/config')).toBe('v');
    await sameIdentity.update('/secure/config', 'w');
    expect(await owner.get('/secure/config')).toBe('w');
    await sameIdentity.remove('/secure');
    expect(await owner.isExisted('/secure')).toBe(false);
  });

  it('nodes created without a digest are open to everyone', async () => {
    const anonymous = await registry.client({ namespace: 'open' });
    const authenticated = await registry.client({ namespace: 'open', digest: 'bob:pw' });
    await anonymous.persist('/shared/a', '1');
    expect(await authenticated.get('/shared/a')).toBe('1');
    await authenticated.persist('/shared/b', '2');
    expect(await anonymous.getChildrenKeys('/shared')).toEqual(['b', 'a']);
    await expect(anonymous.get('/shared/b')).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(anonymous.remove('/shared')).rejects.toMatchObject({ code: 'NO_AUTH' });
    expect(await anonymous.get('/shared/a')).toBe('1');
  });

  it('a transaction touching a protected node fails as a whole with cause NO_AUTH', async () => {
    const owner = await registry.client({ namespace: 'tx', digest: 'carol:pw' });
    const intruder = await registry.client({ namespace: 'open2' });
    const sameNamespace = await registry.client({ namespace: 'tx' });
    await owner.persist('/p', '');
    await intruder.persist('/free', '');
    const error = await sameNamespace
      .executeInTransaction([
        { type: 'check', key: '/p' },
        { type: 'update', key: '/p', value: 'x' },
      ])
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TRANSACTION_FAILED', failedOperationIndex: 0, path: '/p' });
    expect((error as Error).cause).toMatchObject({ code: 'NO_AUTH' });
  });

  it('watch events for nodes the client may not read are left out', async () => {
    const owner = await registry.client({ namespace: 'mixed', digest: 'dave:pw' });
    const anonymous = await registry.client({ namespace: 'mixed' });
    await anonymous.persist('/w', '');
    const { events } = await record(anonymous, '/w');
    await owner.persist('/w/secret', 's');
    await anonymous.persist('/w/public', 'p');
    await vi.waitFor(() => expect(compact(events)).toEqual(['ADDED /w=', 'ADDED /w/public=p']));
  });
});
