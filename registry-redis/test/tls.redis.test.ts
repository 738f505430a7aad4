/**
 * The adapter over TLS (`rediss://`), on a real `redis-server` serving TLS only, with a throwaway
 * CA and a server certificate for 127.0.0.1 made by `openssl` at test time (see test-support). The
 * CA reaches ioredis through the adapter's `tls.ca` option. A client trusting another CA (or only
 * the system's CAs) must fail at `start()` with a RegistryError naming the certificate problem,
 * within its connection timeout: never a hang, never a generic timeout that hides the cause.
 * With `redis+sentinel://`, `tls` is used for the Sentinels and the primary alike (a setup where
 * all five processes serve TLS only).
 */
import { performance } from 'node:perf_hooks';
import { RegistryError } from '@elasticjob-ts/core';
import { EventRecorder } from '@elasticjob-ts/registry-conformance';
import {
  createTestCertificateAuthority,
  makeTempDir,
  type RedisSentinelSetup,
  type RedisTestServer,
  removeDir,
  startRedisSentinel,
  startRedisServer,
  type TestCertificateAuthority,
} from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRegistryCenter } from '../src/index.js';
import { withTwoClients, writeJobBasics } from './support/redis-fixture.js';

/**
 * Connection timeout of the clients that must fail, in ms. A refused certificate must end
 * `start()` well before it (under half): retrying cannot make the certificate verify.
 */
const CONNECTION_TIMEOUT_MS = 6_000;

let server: RedisTestServer;
let scratchDir: string;
let otherCa: TestCertificateAuthority;

beforeAll(async () => {
  server = await startRedisServer({ tls: true, ignoreRedisUrl: true });
  scratchDir = await makeTempDir('elasticjob-redis-tls-test-');
  otherCa = await createTestCertificateAuthority(scratchDir, 'other-ca');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (scratchDir !== undefined) await removeDir(scratchDir);
});

describe('rediss://', () => {
  it('works with the CA given as tls.ca: writes, reads, a transaction, a watch and the latch', async () => {
    expect(server.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
    const make = () =>
      new RedisRegistryCenter({
        type: 'redis',
        url: server.url,
        namespace: 'tls/demo',
        sessionTimeoutMs: 6_000,
        tls: { ca: server.tlsCa },
      });
    await withTwoClients(make, async (a, b) => {
      const recorder = new EventRecorder();
      await b.watch('/jobs', recorder.listener);
      await writeJobBasics(a);
      expect(await b.get('/jobs/orders/config')).toBe('cron: 0/5 * * * * ?');
      expect(await b.getChildrenKeys('/jobs/orders')).toEqual(['leader', 'instances', 'config']);
      expect(await b.executeInLeader('/jobs/orders/latch', () => 'led')).toBe('led');
      await recorder.waitForEvent({ type: 'ADDED', key: '/jobs/orders/leader', value: 'i1' });
      await a.close();
      await recorder.waitForEvent({ type: 'DELETED', key: '/jobs/orders/instances/i1', value: 'alive' });
      expect(recorder.anomalies()).toEqual([]);
    });
  });

  const refusals: Array<{ name: string; tls: () => { ca: string } | undefined }> = [
    { name: 'signed by another CA than tls.ca', tls: () => ({ ca: otherCa.certPem }) },
    { name: 'signed by a CA the system does not trust (no tls.ca)', tls: () => undefined },
  ];
  it.each(refusals)(
    'refuses a server certificate $name, at once, naming the certificate problem',
    async ({ tls }) => {
      const ca = tls();
      const client = new RedisRegistryCenter({
        type: 'redis',
        url: server.url,
        namespace: 'tls/refused',
        connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
        ...(ca === undefined ? {} : { tls: ca }),
      });
      const startedAt = performance.now();
      const error = await client.start().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      const elapsedMs = performance.now() - startedAt;
      await client.close();
      expect(RegistryError.is(error, 'CONNECTION_LOSS')).toBe(true);
      expect((error as Error).message).toMatch(
        /^Could not connect to Redis at rediss:\/\/127\.0\.0\.1:\d+: its TLS certificate was refused \(SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain\); give the CA that signed it as 'tls\.ca'/,
      );
      expect(elapsedMs).toBeLessThan(CONNECTION_TIMEOUT_MS / 2);
    },
  );
});

describe('redis+sentinel:// with tls', () => {
  let setup: RedisSentinelSetup;
  beforeAll(async () => {
    setup = await startRedisSentinel({ tls: true });
  }, 60_000);
  afterAll(async () => {
    await setup?.stop();
  });

  it('asks the Sentinels and talks to the primary over TLS, with the CA given as tls.ca', async () => {
    const make = () =>
      new RedisRegistryCenter({
        type: 'redis',
        url: setup.url,
        namespace: 'tls/sentinel',
        connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
        tls: { ca: setup.tlsCa as string },
      });
    await withTwoClients(make, async (a, b) => {
      const recorder = new EventRecorder();
      await b.watch('/jobs', recorder.listener);
      await a.persist('/jobs/orders/config', 'over TLS');
      await a.persistEphemeral('/jobs/orders/instances/i1', 'alive');
      expect(await b.get('/jobs/orders/config')).toBe('over TLS');
      expect(await b.executeInLeader('/jobs/orders/latch', () => 'led')).toBe('led');
      await recorder.waitForEvent({ type: 'ADDED', key: '/jobs/orders/instances/i1', value: 'alive' });
      expect(recorder.anomalies()).toEqual([]);
    });
  });

  it('refuses Sentinels whose certificate another CA signed: TIMEOUT within connectionTimeoutMs', async () => {
    // ioredis drops the TLS error of its Sentinel connections ("Connection is closed."), so the
    // refusal cannot be told from an unreachable Sentinel: it ends at the bound, naming the URL.
    const timeoutMs = 2_000;
    const client = new RedisRegistryCenter({
      type: 'redis',
      url: setup.url,
      namespace: 'tls/sentinel-refused',
      connectionTimeoutMs: timeoutMs,
      tls: { ca: otherCa.certPem },
    });
    const startedAt = performance.now();
    const error = await client.start().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    const elapsedMs = performance.now() - startedAt;
    await client.close();
    expect(RegistryError.is(error, 'TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain(
      `Could not connect to Redis at ${setup.url} within ${timeoutMs} ms`,
    );
    expect(elapsedMs).toBeLessThan(timeoutMs + 1_000);
  });
});
