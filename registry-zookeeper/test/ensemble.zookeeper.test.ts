/**
 * A 3-server ZooKeeper ensemble whose leader is killed (`kill -9`) several times: the client keeps
 * its session (SUSPENDED → RECONNECTED, never LOST) and its ephemeral node, as long as the new
 * leader is elected within the session timeout. Times are printed as measurements.
 */
import { randomBytes } from 'node:crypto';
import { median } from '@elasticjob-ts/registry-conformance';
import {
  startZookeeperEnsemble,
  type ZookeeperTestEnsemble,
} from '@elasticjob-ts/registry-conformance/servers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ZookeeperRegistryCenter } from '../src/index.js';
import { currentSessionOf } from '../src/zookeeper-registry-center.js';
import { EventLog, StateRecorder } from './support/zookeeper-fixture.js';

const SESSION_TIMEOUT_MS = 3_000;

describe('3-server ZooKeeper ensemble: leader killed', () => {
  let ensemble: ZookeeperTestEnsemble;
  const clients: ZookeeperRegistryCenter[] = [];

  beforeAll(async () => {
    ensemble = await startZookeeperEnsemble({ servers: 3 });
  }, 120_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await ensemble?.stop();
  });

  async function startClient(namespace: string, states?: StateRecorder): Promise<ZookeeperRegistryCenter> {
    const client = new ZookeeperRegistryCenter({
      serverLists: ensemble.connectString,
      namespace,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      connectionTimeoutMs: 5_000,
      baseSleepTimeMs: 100,
      maxSleepTimeMs: 400,
      maxRetries: 10,
    });
    clients.push(client);
    if (states !== undefined) client.addConnectionStateListener(states.listener);
    await client.start();
    return client;
  }

  it('keeps the session through leader kills: SUSPENDED then RECONNECTED, never LOST, ephemeral nodes stay', async () => {
    const namespace = `zk-ensemble-${randomBytes(4).toString('hex')}`;
    const states = new StateRecorder();
    const client = await startClient(namespace, states);
    const observer = await startClient(namespace);
    await client.persistEphemeral('/instances/i1', 'mine');
    const events = new EventLog();
    await observer.watch('/instances', events.listener);
    await events.waitForEvent({ type: 'ADDED', key: '/instances/i1' });
    const session = currentSessionOf(client)?.id.toString('hex');
    const rounds: Array<{ reconnectedAfterMs: number; writeAfterMs: number }> = [];

    for (let round = 0; round < 3; round += 1) {
      const leader = await ensemble.leader();
      const from = states.items.length;
      await leader.kill();
      const killedAt = Date.now();
      let writeAfterMs = Number.NaN;
      const [reconnected] = await Promise.all([
        (async () => {
          // Every server drops its clients when the leader goes: SUSPENDED, then RECONNECTED.
          const suspended = await states.waitForState('SUSPENDED', from, 30_000);
          return states.waitForState('RECONNECTED', states.items.indexOf(suspended), 30_000);
        })(),
        vi.waitFor(
          async () => {
            await client.persist('/probe', `round ${round}`);
            writeAfterMs = Date.now() - killedAt;
          },
          { timeout: 30_000, interval: 50 },
        ),
      ]);
      expect(states.states.slice(from)).not.toContain('LOST');
      expect(currentSessionOf(client)?.id.toString('hex')).toBe(session);
      expect(await observer.getDirectly('/instances/i1')).toBe('mine');
      rounds.push({ reconnectedAfterMs: reconnected.at - killedAt, writeAfterMs });
      await leader.restart();
    }

    expect(events.items.filter((event) => event.type === 'DELETED')).toEqual([]);
    expect(states.states).not.toContain('LOST');
    console.info(
      `[measured] ZooKeeper 3 servers, session ${SESSION_TIMEOUT_MS} ms, leader kill -9 → ` +
        `${rounds.map((r) => `RECONNECTED ${r.reconnectedAfterMs} ms, write ${r.writeAfterMs} ms`).join('; ')}; ` +
        `median kill → RECONNECTED ${median(rounds.map((r) => r.reconnectedAfterMs))} ms, ` +
        `kill → first write ${median(rounds.map((r) => r.writeAfterMs))} ms; session kept in ${rounds.length}/${rounds.length}`,
    );
  }, 240_000);
});
