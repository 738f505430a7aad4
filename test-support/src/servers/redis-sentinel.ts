/**
 * A Sentinel-managed Redis setup for tests: a primary, one replica and three Sentinels, all real
 * `redis-server` processes (Sentinels are `redis-server <conf> --sentinel`, so no `redis-sentinel`
 * program is needed) on free loopback ports in temporary directories. The replica reaches the
 * primary through a {@link TcpProxy}, so a test can hold back replication (`blackhole`) and show
 * what asynchronous replication loses in a failover. Sentinel timeouts are short by default
 * (`down-after-milliseconds` 1000, `failover-timeout` 3000), so a failover takes seconds. With
 * `tls: true` all five serve TLS only, with one throwaway CA.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REDIS_REQUIREMENTS, requireServerBinaries } from './binaries.js';
import { findFreePort } from './free-port.js';
import {
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';
import { type RedisTestServer, redisTlsArguments, startRedisServer } from './redis.js';
import { pairsToMap, parseRedisInfo, sendRedisCommand } from './redis-protocol.js';
import { TcpProxy } from './tcp-proxy.js';
import { createTestCertificateAuthority, createTestServerCertificate } from './tls-material.js';

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /**
   * The name the Sentinels monitor the primary under (the path of a `redis+sentinel://` URL).
   * @defaultValue `elasticjob`
   */
  readonly primaryName?: string;
  /**
   * `sentinel down-after-milliseconds`: how long the primary must not answer before a Sentinel
   * considers it down, in ms.
   * @defaultValue 1000
   */
  readonly downAfterMs?: number;
  /**
   * `sentinel failover-timeout`, in ms: bounds a failover's steps; a failed attempt is retried
   * after twice this.
   * @defaultValue 3000
   */
  readonly failoverTimeoutMs?: number;
  /**
   * Bound of every wait while starting (each server answering, the replica in sync, every
   * Sentinel knowing the replica and the two other Sentinels), in ms.
   * @defaultValue 30000
   */
  readonly startTimeoutMs?: number;
  /**
   * Everything over TLS only: both servers and the three Sentinels serve TLS with one throwaway CA
   * and server certificate (see `startRedisServer({ tls })`), and replicate and monitor over TLS.
   * @defaultValue false
   */
  readonly tls?: boolean;
}

/** Address of a Sentinel. */
export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

/** A running primary + replica + three Sentinels. */
export interface RedisSentinelSetup {
  /** `redis+sentinel://127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>/<primaryName>`. */
  readonly url: string;
  /** The monitored name. */
  readonly primaryName: string;
  /** The three Sentinels. */
  readonly sentinels: readonly SentinelAddress[];
  /** The CA (PEM) of every server and Sentinel with `tls: true`; `undefined` without TLS. */
  readonly tlsCa: string | undefined;
  /** The server started as the primary. */
  readonly primary: RedisTestServer;
  /** The server started as its replica. */
  readonly replica: RedisTestServer;
  /**
   * The replica's replication connection passes through this proxy: `cut('blackhole')` holds back
   * everything the primary sends from then on (writes it acknowledged are then on the primary only).
   */
  readonly replicationLink: TcpProxy;
  /** `down-after-milliseconds`, in ms. */
  readonly downAfterMs: number;
  /** `failover-timeout`, in ms. */
  readonly failoverTimeoutMs: number;
  /**
   * How long a failover may take after the primary died, in ms: `downAfterMs` to notice, then an
   * election and promotion, and one retry after `2 × failoverTimeoutMs` if the first election is
   * split: `downAfterMs + 3 × failoverTimeoutMs`.
   */
  readonly failoverBoundMs: number;
  /**
   * The primary's port as the Sentinels name it (`SENTINEL get-master-addr-by-name`), from the first
   * Sentinel that answers.
   *
   * @throws {Error} when no Sentinel answers.
   */
  primaryPort(): Promise<number>;
  /**
   * Waits until the replica has acknowledged every write the primary has applied so far (`WAIT 1`
   * on the primary).
   *
   * @param timeoutMs - bound, in ms.
   * @throws {Error} when the replica has not acknowledged them within `timeoutMs`.
   */
  waitForReplication(timeoutMs: number): Promise<void>;
  /**
   * Waits until every Sentinel names a primary other than `previousPort` and that server reports
   * `role:master`.
   *
   * @param previousPort - the port of the primary that failed.
   * @param timeoutMs - bound, in ms. @defaultValue {@link failoverBoundMs}
   * @returns the new primary's port.
   * @throws {Error} naming what each Sentinel said when it does not happen in time.
   */
  waitForFailover(previousPort: number, timeoutMs?: number): Promise<number>;
  /** Stops the Sentinels, both servers and the proxy, and deletes their directories. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Starts a primary, a replica (through a proxy) and three Sentinels monitoring the primary with
 * quorum 2, and waits until a failover would be possible: the replica is in sync, and every
 * Sentinel knows the replica and the two other Sentinels. `REDIS_URL` is ignored (an external
 * server cannot stand in for this setup).
 *
 * @param options - primary name, Sentinel timeouts, start bound.
 * @returns the running setup.
 * @throws {MissingServerBinaryError} in one line when `redis-server` is not installed.
 * @throws {Error} with the Sentinels' output when the setup does not become ready in time.
 * @example
 * ```ts
 * const setup = await startRedisSentinel();
 * const registry = new RedisRegistryCenter({ type: 'redis', url: setup.url, namespace: 'demo' });
 * await setup.primary.kill(); // Sentinel promotes the replica within setup.failoverBoundMs
 * ```
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelSetup> {
  const [redis] = requireServerBinaries('Redis Sentinel', REDIS_REQUIREMENTS) as [string];
  const primaryName = options.primaryName ?? 'elasticjob';
  const downAfterMs = options.downAfterMs ?? 1_000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const failoverBoundMs = downAfterMs + 3 * failoverTimeoutMs;
  // No delay before a replica's full sync (default 5 s), so the replica is in sync at once.
  const replicationArgs = ['--repl-diskless-sync-delay', '0'];

  const started: Array<{ stop(): Promise<void> }> = [];
  const sentinelProcesses: ManagedProcess[] = [];
  const scratchDirs: string[] = [];
  const sentinels: SentinelAddress[] = [];
  const stopAll = async (): Promise<void> => {
    const results = await Promise.allSettled([
      ...sentinelProcesses.map((process) => process.stop()),
      ...started.map((item) => item.stop()),
    ]);
    await Promise.all(scratchDirs.map((dir) => removeDir(dir)));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0) throw new AggregateError(failures, 'Redis Sentinel setup: stopping failed');
  };

  let certificate: Awaited<ReturnType<typeof createTestServerCertificate>> | undefined;
  const endpoint = (port: number) => ({ host: HOST, port, tlsCa: certificate?.ca.certPem });
  const launchSentinel = async (primaryPort: number): Promise<void> => {
    const dir = await makeTempDir('elasticjob-redis-sentinel-');
    scratchDirs.push(dir);
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      const configFile = join(dir, 'sentinel.conf');
      // Sentinel rewrites its configuration file (known replicas and Sentinels, epochs): it must be
      // a writable file of its own.
      await writeFile(
        configFile,
        [
          ...(certificate === undefined ? [`port ${port}`] : ['port 0', `tls-port ${port}`]),
          // `--name value` words as configuration lines.
          ...(certificate === undefined ? [] : redisTlsArguments(certificate)).flatMap((word, i, words) =>
            i % 2 === 0 ? [`${word.slice(2)} ${words[i + 1]}`] : [],
          ),
          `bind ${HOST}`,
          'daemonize no',
          `dir ${dir}`,
          'loglevel notice',
          `sentinel monitor ${primaryName} ${HOST} ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${primaryName} ${downAfterMs}`,
          `sentinel failover-timeout ${primaryName} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${primaryName} 1`,
          '',
        ].join('\n'),
        'utf8',
      );
      const process = spawnManagedProcess(redis, [configFile, '--sentinel'], { cwd: dir });
      try {
        await waitUntil(async () => (await sendRedisCommand(endpoint(port), ['PING'], 1_000)) === 'PONG', {
          timeoutMs: startTimeoutMs,
          intervalMs: 50,
          description: `Sentinel on ${HOST}:${port} to answer PING`,
          abortIf: () => (process.isRunning() ? undefined : 'the Sentinel process exited'),
        });
        sentinelProcesses.push(process);
        sentinels.push({ host: HOST, port });
        return;
      } catch (error) {
        await process.kill();
        const output = process.output();
        if (/address already in use/i.test(output) && attempt < 5) continue;
        throw new Error(`Sentinel did not start: ${(error as Error).message}\n--- output ---\n${output}`, {
          cause: error,
        });
      }
    }
  };

  try {
    if (options.tls === true) {
      const dir = await makeTempDir('elasticjob-redis-sentinel-tls-');
      scratchDirs.push(dir);
      certificate = await createTestServerCertificate(dir, await createTestCertificateAuthority(dir));
    }
    const tls = certificate ?? false;
    const primary = await startRedisServer({ ignoreRedisUrl: true, tls, extraArgs: replicationArgs });
    started.push(primary);
    const replicationLink = await TcpProxy.start(`${HOST}:${primary.port}`);
    started.push(replicationLink);
    const [linkHost, linkPort] = replicationLink.address.split(':') as [string, string];
    const replica = await startRedisServer({
      ignoreRedisUrl: true,
      tls,
      extraArgs: [...replicationArgs, '--replicaof', linkHost, linkPort],
    });
    started.push(replica);
    await waitUntil(
      async () =>
        parseRedisInfo(await sendRedisCommand(replica, ['INFO', 'replication'])).get('master_link_status') ===
        'up',
      {
        timeoutMs: startTimeoutMs,
        intervalMs: 50,
        description: 'the replica to be in sync with the primary',
      },
    );
    for (let i = 0; i < 3; i++) await launchSentinel(primary.port);

    let lastView = '';
    await waitUntil(
      async () => {
        const views = await Promise.all(
          sentinels.map(async (sentinel) => {
            const master = pairsToMap(
              await sendRedisCommand(endpoint(sentinel.port), ['SENTINEL', 'master', primaryName]),
            );
            const replicas = await sendRedisCommand(endpoint(sentinel.port), [
              'SENTINEL',
              'replicas',
              primaryName,
            ]);
            const replicaView = Array.isArray(replicas) ? replicas.map(pairsToMap) : [];
            return {
              ready:
                master.get('flags') === 'master' &&
                Number(master.get('num-other-sentinels')) >= 2 &&
                replicaView.some(
                  (entry) =>
                    Number(entry.get('port')) === replica.port &&
                    entry.get('flags') === 'slave' &&
                    entry.get('master-link-status') === 'ok',
                ),
              text: `${sentinel.port}: flags=${master.get('flags')} other-sentinels=${master.get('num-other-sentinels')} replicas=${replicaView.map((entry) => `${entry.get('port')}/${entry.get('flags')}/${entry.get('master-link-status')}`).join(',')}`,
            };
          }),
        );
        lastView = views.map((view) => view.text).join('; ');
        return views.every((view) => view.ready);
      },
      {
        timeoutMs: startTimeoutMs,
        intervalMs: 100,
        description: `every Sentinel to know the replica and the two other Sentinels (last: ${lastView})`,
      },
    );

    const askSentinels = async (): Promise<Array<number | undefined>> =>
      Promise.all(
        sentinels.map(async (sentinel) => {
          try {
            const reply = await sendRedisCommand(endpoint(sentinel.port), [
              'SENTINEL',
              'get-master-addr-by-name',
              primaryName,
            ]);
            return Array.isArray(reply) ? Number(reply[1]) : undefined;
          } catch {
            return undefined; // this Sentinel is unreachable right now: the others decide
          }
        }),
      );
    const primaryPort = async (): Promise<number> => {
      const port = (await askSentinels()).find((candidate) => candidate !== undefined);
      if (port === undefined) throw new Error(`no Sentinel of ${primaryName} answered`);
      return port;
    };
    let stopped = false;
    return {
      url: `redis+sentinel://${sentinels.map((sentinel) => `${sentinel.host}:${sentinel.port}`).join(',')}/${primaryName}`,
      primaryName,
      sentinels,
      tlsCa: certificate?.ca.certPem,
      primary,
      replica,
      replicationLink,
      downAfterMs,
      failoverTimeoutMs,
      failoverBoundMs,
      primaryPort,
      async waitForReplication(timeoutMs) {
        const port = await primaryPort();
        const acknowledged = await sendRedisCommand(
          { host: HOST, port },
          ['WAIT', '1', String(timeoutMs)],
          timeoutMs + 1_000,
        );
        if (acknowledged !== 1) {
          throw new Error(
            `the replica did not acknowledge the primary's writes within ${timeoutMs} ms (WAIT: ${acknowledged})`,
          );
        }
      },
      async waitForFailover(previousPort, timeoutMs = failoverBoundMs) {
        let named: Array<number | undefined> = [];
        let promoted: number | undefined;
        await waitUntil(
          async () => {
            named = await askSentinels();
            const first = named[0];
            if (first === undefined || first === previousPort || named.some((port) => port !== first))
              return false;
            const info = parseRedisInfo(await sendRedisCommand(endpoint(first), ['INFO', 'replication']));
            if (info.get('role') !== 'master') return false;
            promoted = first;
            return true;
          },
          {
            timeoutMs,
            intervalMs: 50,
            description: `the Sentinels to promote a replica of ${HOST}:${previousPort} (they name: ${named.join(', ')})`,
          },
        );
        return promoted as number;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
  } catch (error) {
    const output = sentinelProcesses
      .map((p, i) => `--- sentinel ${i} ---\n${p.output().slice(-2000)}`)
      .join('\n');
    await stopAll();
    throw new Error(`Redis Sentinel setup did not start: ${(error as Error).message}\n${output}`, {
      cause: error,
    });
  }
}
