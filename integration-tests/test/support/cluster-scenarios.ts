/**
 * The multi-process scenarios, one body parameterised by registry backend: real worker processes
 * (`dist/worker/job-instance.js`) on a real ZooKeeper, etcd or Redis server, faults injected for real
 * (`kill -9`, `SIGSTOP` beyond the session, server restart, scale out/in, a one-off trigger during
 * a run), and the checker's invariants over every process's execution log. Conditions are polled
 * with `vi.waitFor` under explicit bounds; the only timed things are the faults themselves.
 *
 * Needs a build first (`npx turbo run build --filter=@elasticjob-ts/integration-tests...`).
 */
import { JobOperateAPI, MAX_ADMISSION_LEAD_MS } from '@elasticjob-ts/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  checkCompleteness,
  checkConvergence,
  checkExclusiveExecution,
  type FailoverMeasurement,
  findOverlaps,
  formatTime,
  type ItemRun,
  measureFailover,
  periodicFireTimes,
} from '../../src/harness/checker.js';
import { Cluster, type ClusterLogs, type ShardingSnapshot } from '../../src/harness/cluster.js';
import type { RunRegistry } from '../../src/harness/registry-backends.js';
import type { WorkerJobConfig } from '../../src/worker/worker-config.js';

/** The scenarios, by key, for {@link ScenarioBackend.scenarios}. */
export type ScenarioKey =
  | 'kill9'
  | 'sigstop'
  | 'partition-short'
  | 'partition-long'
  | 'blackhole-long'
  | 'pause-long'
  | 'registry-restart'
  | 'leader-kill'
  | 'scale'
  | 'trigger';

/** What differs between backends. */
export interface ScenarioBackend {
  /** Name in titles and log lines, e.g. `zookeeper` or `etcd 3-member`. */
  readonly name: string;
  /** Starts a fresh server (or ensemble) on free loopback ports. */
  startServer(): Promise<RunRegistry>;
  /** The scenarios to register. @defaultValue every scenario that the server supports */
  readonly scenarios?: readonly ScenarioKey[];
}

/** Registry session timeout of every worker, in ms (short, so that faults resolve quickly). */
const SESSION_TIMEOUT_MS = 3000;
const EVERY_SECOND = '* * * * * ?';
const FIRE_PERIOD_MS = 1000;
const POLL_MS = 100;

let namespaceSeq = 0;

/**
 * Registers the scenarios for one backend.
 *
 * @param backend - name and server factory.
 */
export function clusterScenarioSuite(backend: ScenarioBackend): void {
  describe(`cluster scenarios on ${backend.name}`, () => {
    let registry: RunRegistry;
    const clusters: { cluster: Cluster; failed: boolean }[] = [];

    beforeAll(async () => {
      registry = await backend.startServer();
    });
    afterEach(async () => {
      for (const entry of clusters.splice(0)) await entry.cluster.close({ keepLogs: entry.failed });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    const log = (message: string) => console.log(`[${backend.name}] ${message}`);

    async function startCluster(job: Partial<WorkerJobConfig>, count: number): Promise<Cluster> {
      const cluster = await Cluster.start(
        {
          registry: registry.connection,
          server: registry,
          namespace: `it-${backend.name.replace(/[^A-Za-z0-9]+/g, '-')}-${process.pid}-${namespaceSeq++}`,
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
          job: {
            jobName: 'orders',
            cron: EVERY_SECOND,
            shardingTotalCount: 3,
            failover: true,
            monitorExecution: true,
            misfire: true,
            itemDurationMs: 600,
            ...job,
          },
        },
        count,
      );
      clusters.push({ cluster, failed: false });
      return cluster;
    }

    /** A scenario whose clusters keep their logs (path printed) when it fails. */
    function scenario(key: ScenarioKey, name: string, body: () => Promise<void>, timeoutMs: number): void {
      if (backend.scenarios !== undefined && !backend.scenarios.includes(key)) return;
      it(
        name,
        async () => {
          try {
            await body();
          } catch (error) {
            for (const entry of clusters) entry.failed = true;
            throw error;
          }
        },
        timeoutMs,
      );
    }

    /** Polls the logs until `assertion` passes (it throws via `expect` until then). */
    function waitForLogs<T>(
      cluster: Cluster,
      timeoutMs: number,
      assertion: (logs: ClusterLogs) => T,
    ): Promise<T> {
      return vi.waitFor(async () => assertion(await cluster.readLogs()), {
        timeout: timeoutMs,
        interval: POLL_MS,
      });
    }

    /**
     * Waits until the registry shows a settled assignment over exactly `instanceIds`: no pending
     * resharding, those instances live, every item owned by one of them and each of them owning
     * at least one item (when there are enough items).
     */
    async function waitForStableAssignment(
      cluster: Cluster,
      instanceIds: readonly string[],
      timeoutMs = 20_000,
    ): Promise<{ snapshot: ShardingSnapshot; observedAtMs: number }> {
      const total = cluster.options.job.shardingTotalCount;
      return vi.waitFor(
        async () => {
          // Items are read one by one: accept a snapshot only when a second read agrees, so a
          // resharding committed in the middle of the first read cannot pass as settled.
          const snapshot = await cluster.readAssignment();
          const again = await cluster.readAssignment();
          expect(again.assignment).toEqual(snapshot.assignment);
          expect(again.reshardingPending).toBe(false);
          expect(snapshot.reshardingPending).toBe(false);
          expect([...snapshot.liveInstances].sort()).toEqual([...instanceIds].sort());
          expect(snapshot.assignment.size).toBe(total);
          const owners = new Set(snapshot.assignment.values());
          for (const owner of owners) expect(instanceIds).toContain(owner);
          expect(owners.size).toBe(Math.min(total, instanceIds.length));
          return { snapshot, observedAtMs: Date.now() };
        },
        { timeout: timeoutMs, interval: POLL_MS },
      );
    }

    /** Invariant (a) over everything logged so far, plus the log protocol and crash-freedom. */
    async function assertExclusiveAndClean(cluster: Cluster): Promise<ClusterLogs> {
      const logs = await cluster.readLogs();
      expect(logs.problems, 'execution log protocol').toEqual([]);
      expect(cluster.unexpectedExits(), 'workers that crashed').toEqual([]);
      const violations = checkExclusiveExecution(logs.runs, logs.timelines, {
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        nowMs: logs.readAtMs,
      });
      expect(violations, `invariant (a)\n${describeRuns(logs.runs)}`).toEqual([]);
      return logs;
    }

    /**
     * Invariant (c) over the window that starts at the first fire prepared after the stable
     * assignment was observed and lasts `fires` fires. A follower learns the assignment through its
     * watch, so the fire racing that delivery may still use the previous one; and a cron run is
     * admitted up to `MAX_ADMISSION_LEAD_MS` before its fire, on the assignment of that moment
     * (`docs/architecture.md`, "Runs prepared ahead of the fire").
     */
    async function assertConvergence(
      cluster: Cluster,
      stable: { snapshot: ShardingSnapshot; observedAtMs: number },
      fires = 2,
      extraWaitMs = 0,
    ): Promise<void> {
      const fromMs = nextFireAfter(stable.observedAtMs + MAX_ADMISSION_LEAD_MS);
      const toMs = fromMs + (fires - 1) * FIRE_PERIOD_MS + FIRE_PERIOD_MS / 2;
      const itemMs = cluster.options.job.itemDurationMs;
      await waitForLogs(cluster, toMs - Date.now() + itemMs + 8000 + extraWaitMs, (logs) => {
        expect(logs.readAtMs).toBeGreaterThan(toMs + POLL_MS);
        const violations = checkConvergence(logs.runs, {
          assignment: stable.snapshot.assignment,
          fromMs,
          toMs,
        });
        expect(
          violations,
          `invariant (c) in ${formatTime(fromMs)}..${formatTime(toMs)} for ${describeAssignment(stable.snapshot)}\n` +
            describeRuns(logs.runs),
        ).toEqual([]);
      });
    }

    scenario(
      'kill9',
      'kill -9 of an instance mid-run: its in-flight items start on a survivor within sessionTimeout + one cron period + 1 s, and every item of the following fires completes',
      async () => {
        const itemDurationMs = 3000;
        // Two items over three instances: one instance stays idle and can take the failed items
        // over at once (a busy instance only queues them until it is idle, like ElasticJob #526).
        const cluster = await startCluster({ shardingTotalCount: 2, itemDurationMs }, 3);
        const ids = cluster.workers.map((w) => w.instanceId);
        const stable = await waitForStableAssignment(cluster, ids);

        const victimRun = await waitForLogs(cluster, 15_000, (logs) => {
          const candidate = logs.runs.find(
            (run) =>
              run.outcome === 'open' &&
              logs.readAtMs - run.startMs >= 1000 &&
              run.startMs > stable.observedAtMs,
          );
          expect(candidate, 'an item in flight for at least 1 s').toBeDefined();
          return candidate as ItemRun;
        });
        const victim = cluster.workers.find((w) => w.instanceId === victimRun.instanceId);
        if (victim === undefined) throw new Error(`no worker ${victimRun.instanceId}`);
        const wasLeader = (await cluster.readAssignment()).leader === victim.instanceId;
        const killedAtMs = await cluster.kill9(victim.index);

        let expiredAtMs: number | undefined;
        const measured = await vi.waitFor(
          async () => {
            if (expiredAtMs === undefined) {
              const snapshot = await cluster.readAssignment();
              if (!snapshot.liveInstances.includes(victim.instanceId)) expiredAtMs = Date.now();
            }
            const result = measureFailover((await cluster.readLogs()).runs, victim.instanceId, killedAtMs);
            expect(result.length).toBeGreaterThan(0);
            for (const m of result) expect(m.takenOverBy, `takeover of item ${m.item}`).toBeDefined();
            return result;
          },
          { timeout: SESSION_TIMEOUT_MS + itemDurationMs + 8000, interval: 50 },
        );
        log(
          `kill -9 of ${victim.instanceId}${wasLeader ? ' (leader)' : ''} at ${formatTime(killedAtMs)}; ` +
            `instance node gone after ${expiredAtMs === undefined ? '?' : expiredAtMs - killedAtMs} ms; ` +
            describeFailover(measured) +
            ` (bound: session ${SESSION_TIMEOUT_MS} ms + period ${FIRE_PERIOD_MS} ms + 1000 ms)`,
        );
        // The recovery target of a crash: the registry needs a whole session to declare the
        // instance dead (etcd then revokes the lease at its next expiry check, every 500 ms),
        // and a survivor claims it on the event or at the next fire at the latest; 1 s covers
        // event delivery and the claim transaction, also under CPU load.
        const takeoverBoundMs = SESSION_TIMEOUT_MS + FIRE_PERIOD_MS + 1000;
        for (const m of measured) expect(m.latencyMs).toBeLessThanOrEqual(takeoverBoundMs);

        // Invariant (b): the fires after the kill all complete somewhere.
        const fireTimesMs = periodicFireTimes(killedAtMs, killedAtMs + 3000, FIRE_PERIOD_MS);
        const coverageBoundMs = SESSION_TIMEOUT_MS + 2 * itemDurationMs + 1000;
        await waitForLogs(
          cluster,
          fireTimesMs.at(-1)! + coverageBoundMs + itemDurationMs + 3000 - Date.now(),
          (logs) => {
            const violations = checkCompleteness(logs.runs, { items: [0, 1], fireTimesMs, coverageBoundMs });
            expect(violations, `invariant (b)\n${describeRuns(logs.runs)}`).toEqual([]);
          },
        );
        await assertExclusiveAndClean(cluster);
      },
      90_000,
    );

    scenario(
      'sigstop',
      'SIGSTOP beyond the session timeout, then SIGCONT: no item runs twice at once, the resumed instance rejoins and the assignment converges',
      async () => {
        const cluster = await startCluster({ shardingTotalCount: 3, itemDurationMs: 600 }, 3);
        const ids = cluster.workers.map((w) => w.instanceId);
        await waitForStableAssignment(cluster, ids);
        const paused = cluster.worker(0);

        // Freeze it in the middle of a run, so that the frozen run meets the failover run.
        const frozen = await waitForLogs(cluster, 10_000, (logs) => {
          const open = logs.runs.filter(
            (run) =>
              run.instanceId === paused.instanceId &&
              run.outcome === 'open' &&
              logs.readAtMs - run.startMs >= 100 &&
              logs.readAtMs - run.startMs < 350,
          );
          expect(open.length).toBeGreaterThan(0);
          return open;
        });
        const pausedAtMs = cluster.sigstop(paused.index);

        // Stay frozen until the registry dropped its session and its items completed elsewhere.
        const survivors = ids.filter((id) => id !== paused.instanceId);
        await waitForStableAssignment(cluster, survivors, SESSION_TIMEOUT_MS + 15_000);
        await waitForLogs(cluster, 15_000, (logs) => {
          for (const run of frozen) {
            expect(
              logs.runs.some(
                (other) =>
                  other.item === run.item &&
                  other.instanceId !== paused.instanceId &&
                  other.startMs > pausedAtMs &&
                  other.outcome === 'end',
              ),
              `item ${run.item} completed elsewhere during the pause`,
            ).toBe(true);
          }
        });
        // A registry counts the session from the last heartbeat, so it may drop it before the
        // session timeout has passed since the freeze (seen on Redis: 2.8 s of a 3 s session). The
        // scenario is a freeze beyond the session timeout: stay frozen until it has passed.
        const beyondSessionMs = pausedAtMs + SESSION_TIMEOUT_MS + POLL_MS - Date.now();
        if (beyondSessionMs > 0) await new Promise((resolve) => setTimeout(resolve, beyondSessionMs));
        const resumedAtMs = cluster.sigcont(paused.index);
        log(
          `SIGSTOP of ${paused.instanceId} for ${resumedAtMs - pausedAtMs} ms (session ${SESSION_TIMEOUT_MS} ms), ` +
            `frozen mid-run of item(s) ${frozen.map((r) => r.item).join(', ')}`,
        );

        const session = await waitForLogs(cluster, 15_000, (logs) => {
          const timeline = logs.timelines.find((t) => t.instanceId === paused.instanceId);
          const event = timeline?.events.find(
            (e) => e.wallMs >= resumedAtMs && (e.event === 'RECONNECTED' || e.event === 'CONNECTED'),
          );
          expect(event, 'new session reported by the resumed instance').toBeDefined();
          return event as { event: string; wallMs: number };
        });
        const stable = await waitForStableAssignment(cluster, ids);
        log(
          `resumed instance reported ${session.event} after ${session.wallMs - resumedAtMs} ms; assignment stable ` +
            `after ${stable.observedAtMs - resumedAtMs} ms: ${describeAssignment(stable.snapshot)}`,
        );
        await assertConvergence(cluster, stable);
        await assertExclusiveAndClean(cluster);
      },
      90_000,
    );

    /**
     * A network fault of one worker (through its proxies), `short` (a third of the session: the
     * session must survive) or `long` (until the registry dropped the worker and its items ran
     * elsewhere), then healed: the worker keeps or regains a session, the assignment converges
     * and no item ran twice at once except fenced overlaps (logged with their length).
     */
    function networkFaultScenario(mode: 'partition' | 'blackhole' | 'pause', length: 'short' | 'long'): void {
      const what = {
        partition: 'network partition (connections reset)',
        blackhole: 'blackhole (connections accepted, nothing answered)',
        pause: 'pulled cable (bytes held, delivered on heal)',
      }[mode];
      const bound = length === 'short' ? 'shorter than the session' : 'beyond the session';
      scenario(
        `${mode}-${length}` as ScenarioKey,
        `${what} ${bound}: ${length === 'short' ? 'the session survives, ' : 'the instance rejoins, '}the assignment converges and no item runs twice at once`,
        async () => {
          const cluster = await startCluster({ shardingTotalCount: 3, itemDurationMs: 600 }, 3);
          const ids = cluster.workers.map((w) => w.instanceId);
          await waitForStableAssignment(cluster, ids);
          const victim = cluster.worker(0);
          // Cut it in the middle of a run, so that its in-flight run meets the failover run.
          await waitForLogs(cluster, 10_000, (logs) => {
            const open = logs.runs.filter(
              (run) => run.instanceId === victim.instanceId && run.outcome === 'open',
            );
            expect(open.length).toBeGreaterThan(0);
          });
          const cutAtMs = cluster.networkFault(victim.index, mode);
          if (length === 'short') {
            await new Promise((resolve) => setTimeout(resolve, SESSION_TIMEOUT_MS / 3));
          } else {
            const survivors = ids.filter((id) => id !== victim.instanceId);
            await waitForStableAssignment(cluster, survivors, SESSION_TIMEOUT_MS + 15_000);
            await waitForLogs(cluster, 15_000, (logs) => {
              for (const item of [0, 1, 2]) {
                expect(
                  logs.runs.some(
                    (run) =>
                      run.item === item &&
                      run.instanceId !== victim.instanceId &&
                      run.startMs > cutAtMs &&
                      run.outcome === 'end',
                  ),
                  `item ${item} completed on a survivor during the fault`,
                ).toBe(true);
              }
            });
          }
          const healedAtMs = cluster.healNetwork(victim.index);
          log(
            `${mode} of ${victim.instanceId} for ${healedAtMs - cutAtMs} ms (session ${SESSION_TIMEOUT_MS} ms)`,
          );
          if (length === 'long') {
            await waitForLogs(cluster, 20_000, (logs) => {
              const timeline = logs.timelines.find((t) => t.instanceId === victim.instanceId);
              const event = timeline?.events.find(
                (e) => e.wallMs >= cutAtMs && (e.event === 'RECONNECTED' || e.event === 'CONNECTED'),
              );
              expect(event, 'the cut-off instance reported a session again').toBeDefined();
            });
          }
          const stable = await waitForStableAssignment(cluster, ids, SESSION_TIMEOUT_MS + 20_000);
          log(
            `${mode}: assignment over all instances again ${stable.observedAtMs - healedAtMs} ms after the heal`,
          );
          await assertConvergence(cluster, stable);
          const logs = await assertExclusiveAndClean(cluster);
          const victimEvents = logs.timelines.find((t) => t.instanceId === victim.instanceId)?.events ?? [];
          const fenced = findOverlaps(logs.runs, logs.timelines, {
            sessionTimeoutMs: SESSION_TIMEOUT_MS,
            nowMs: logs.readAtMs,
          });
          log(
            `${mode}: connection events of ${victim.instanceId}: ` +
              `${
                victimEvents
                  .filter((e) => e.wallMs >= cutAtMs)
                  .map((e) => `${e.event} +${e.wallMs - cutAtMs} ms`)
                  .join(', ') || 'none'
              }; ` +
              `fenced overlaps: ${fenced.map((o) => `item ${o.item} ${o.overlapMs} ms`).join(', ') || 'none'}`,
          );
          if (length === 'short') {
            expect(
              victimEvents.filter((e) => e.wallMs >= cutAtMs && e.event === 'LOST'),
              'a fault shorter than the session must not cost the session',
            ).toEqual([]);
          }
        },
        120_000,
      );
    }

    networkFaultScenario('partition', 'short');
    networkFaultScenario('partition', 'long');
    networkFaultScenario('blackhole', 'long');
    networkFaultScenario('pause', 'long');

    /**
     * A registry outage: a restart of the server (an ensemble: a rolling restart of every member)
     * or, on an ensemble, a `kill -9` of the leader member. Every worker that noticed it reports
     * its connection back, the cluster settles, and (b), (c), (a) hold on the fires after it.
     */
    function registryOutageScenario(kind: 'registry-restart' | 'leader-kill'): void {
      const title =
        kind === 'leader-kill'
          ? 'kill -9 of the registry leader member during operation: jobs keep firing after the election and the invariants hold'
          : 'registry server restart (an ensemble: rolling restart of every member) during operation: jobs keep firing after it and the invariants hold';
      scenario(
        kind,
        title,
        async () => {
          if (kind === 'leader-kill' && registry.killLeader === undefined) {
            throw new Error(`${backend.name} has no leader to kill; do not list 'leader-kill' for it`);
          }
          const itemDurationMs = 600;
          const cluster = await startCluster({ shardingTotalCount: 3, itemDurationMs }, 3);
          const ids = cluster.workers.map((w) => w.instanceId);
          await waitForStableAssignment(cluster, ids);
          await waitForLogs(cluster, 10_000, (logs) => {
            for (const item of [0, 1, 2]) {
              expect(logs.runs.some((run) => run.item === item && run.outcome === 'end')).toBe(true);
            }
          });

          let killed: number | undefined;
          const restart =
            kind === 'registry-restart'
              ? await cluster.restartRegistry()
              : await (async () => {
                  const fromMs = Date.now();
                  killed = await registry.killLeader?.();
                  return { fromMs, toMs: Date.now() };
                })();
          // Every worker that noticed the outage reports its connection back (same or new session).
          await waitForLogs(cluster, 40_000, (logs) => {
            for (const timeline of logs.timelines) {
              const last = timeline.events.filter((e) => e.wallMs >= restart.fromMs).at(-1);
              if (last !== undefined) {
                expect(['RECONNECTED', 'CONNECTED'], `${timeline.instanceId} connected again`).toContain(
                  last.event,
                );
              }
            }
          });
          const stable = await waitForStableAssignment(cluster, ids, 40_000);
          /** Each worker's connection events since the outage began, in ms after its start. */
          const connectionEvents = async () =>
            (await cluster.readLogs()).timelines
              .map(
                (t) =>
                  `${t.instanceId.slice(t.instanceId.lastIndexOf('@') + 1)}: ` +
                  (t.events
                    .filter((e) => e.wallMs >= restart.fromMs)
                    .map((e) => `${e.event} +${e.wallMs - restart.fromMs} ms`)
                    .join(', ') || 'none'),
              )
              .join('; ');
          log(
            `${kind === 'leader-kill' ? `kill -9 of leader member ${killed}` : 'registry restart'} took ${restart.toMs - restart.fromMs} ms; cluster stable again ` +
              `${stable.observedAtMs - restart.toMs} ms later; connection events: ${await connectionEvents()}`,
          );

          // Invariant (b) on the fires after the cluster settled, and (c) on the same window.
          const fromMs = nextFireAfter(stable.observedAtMs + MAX_ADMISSION_LEAD_MS);
          const fireTimesMs = periodicFireTimes(fromMs, fromMs + 2000, FIRE_PERIOD_MS);
          const coverageBoundMs = itemDurationMs + 1500;
          await waitForLogs(
            cluster,
            fireTimesMs.at(-1)! + coverageBoundMs + itemDurationMs + 8000 - Date.now(),
            (logs) => {
              const violations = checkCompleteness(logs.runs, {
                items: [0, 1, 2],
                fireTimesMs,
                coverageBoundMs,
              });
              expect(violations, `invariant (b)\n${describeRuns(logs.runs)}`).toEqual([]);
            },
          );
          await assertConvergence(cluster, stable);
          await assertExclusiveAndClean(cluster);
          // Events that came after the cluster was first seen stable (a late SUSPENDED/RECONNECTED).
          log(`connection events since the outage, at the end: ${await connectionEvents()}`);
          if (killed !== undefined) await registry.restartMember?.(killed);
        },
        150_000,
      );
    }

    registryOutageScenario('registry-restart');
    if (backend.scenarios?.includes('leader-kill')) registryOutageScenario('leader-kill');

    scenario(
      'scale',
      'scale out 2 → 4 and in 4 → 2 while running: every instance converges to its new items, nothing runs twice at once',
      async () => {
        const cluster = await startCluster({ shardingTotalCount: 8, itemDurationMs: 300 }, 2);
        const first = cluster.workers.map((w) => w.instanceId);
        const two = await waitForStableAssignment(cluster, first);
        await assertConvergence(cluster, two);

        await Promise.all([cluster.add(), cluster.add()]);
        const all = cluster.workers.map((w) => w.instanceId);
        const four = await waitForStableAssignment(cluster, all);
        log(`scale out 2 → 4: ${describeAssignment(four.snapshot)}`);
        await assertConvergence(cluster, four);

        const scaleInAtMs = Date.now();
        await Promise.all([cluster.stop(0), cluster.stop(1)]);
        const rest = all.slice(2);
        const back = await waitForStableAssignment(cluster, rest);
        log(
          `scale in 4 → 2 converged ${back.observedAtMs - scaleInAtMs} ms after SIGTERM: ${describeAssignment(back.snapshot)}`,
        );
        await assertConvergence(cluster, back);
        await assertExclusiveAndClean(cluster);
      },
      90_000,
    );

    scenario(
      'trigger',
      'a one-off trigger during a run is kept and runs once right after it, before the next cron fire',
      async () => {
        const periodMs = 5000;
        const itemDurationMs = 2000;
        const cluster = await startCluster(
          { cron: '0/5 * * * * ?', shardingTotalCount: 2, itemDurationMs, misfire: false, failover: false },
          2,
        );
        const ids = cluster.workers.map((w) => w.instanceId);
        const stable = await waitForStableAssignment(cluster, ids);

        // A cron run of both items in progress.
        const inProgress = await waitForLogs(cluster, periodMs + 10_000, (logs) => {
          const open = [0, 1].map((item) =>
            logs.runs.find(
              (run) => run.item === item && run.outcome === 'open' && run.startMs > stable.observedAtMs,
            ),
          );
          for (const run of open) expect(run).toBeDefined();
          return open as ItemRun[];
        });
        const triggeredAtMs = Date.now();
        const triggered = await new JobOperateAPI(await cluster.admin()).trigger('orders');
        expect([...triggered].sort()).toEqual([...ids].sort());
        const fireMs = Math.floor(Math.min(...inProgress.map((r) => r.startMs)) / periodMs) * periodMs;
        const nextCronMs = fireMs + periodMs;
        expect(Date.now(), 'triggered while the runs were in progress').toBeLessThan(
          Math.min(...inProgress.map((r) => r.startMs)) + itemDurationMs,
        );

        const admin = await cluster.admin();
        await vi.waitFor(async () => expect(await admin.getChildrenKeys('/orders/trigger')).toEqual([]), {
          timeout: 10_000,
          interval: POLL_MS,
        });
        // Wait for the next cron run of every item, then look at what happened in between.
        const logs = await waitForLogs(cluster, nextCronMs + itemDurationMs + 10_000 - Date.now(), (l) => {
          for (const item of [0, 1]) {
            expect(l.runs.some((run) => run.item === item && run.startMs >= nextCronMs)).toBe(true);
          }
          return l;
        });
        for (const first of inProgress) {
          const current = logs.runs.find(
            (run) =>
              run.instanceId === first.instanceId && run.item === first.item && run.startMs === first.startMs,
          );
          expect(current?.outcome, `the cron run of item ${first.item} completed`).toBe('end');
          const stopMs = current?.stopMs as number;
          const between = logs.runs.filter(
            (run) => run.item === first.item && run.startMs > first.startMs && run.startMs < nextCronMs,
          );
          expect(
            between.map((run) => ({ instanceId: run.instanceId, outcome: run.outcome })),
            `item ${first.item}: exactly one triggered run, on its instance`,
          ).toEqual([{ instanceId: first.instanceId, outcome: 'end' }]);
          const extra = between[0] as ItemRun;
          expect(extra.startMs).toBeGreaterThanOrEqual(stopMs);
          expect(extra.startMs - stopMs, 'the triggered run follows the current one at once').toBeLessThan(
            1000,
          );
          log(
            `trigger at ${formatTime(triggeredAtMs)} during the run of item ${first.item} ` +
              `(${formatTime(first.startMs)}..${formatTime(stopMs)}): ran once at ${formatTime(extra.startMs)}, ` +
              `${extra.startMs - stopMs} ms after the run ended`,
          );
        }
        await assertExclusiveAndClean(cluster);
      },
      90_000,
    );
  });
}

function nextFireAfter(ms: number): number {
  return (Math.floor(ms / FIRE_PERIOD_MS) + 1) * FIRE_PERIOD_MS;
}

function describeAssignment(snapshot: ShardingSnapshot): string {
  return [...snapshot.assignment]
    .sort((a, b) => a[0] - b[0])
    .map(([item, owner]) => `${item}→${owner.slice(owner.lastIndexOf('@') + 1)}`)
    .join(' ');
}

function describeFailover(measured: readonly FailoverMeasurement[]): string {
  return measured
    .map(
      (m) =>
        `item ${m.item} restarted on ${m.takenOverBy ?? 'nobody'} after ${m.latencyMs ?? '?'} ms ` +
        `(in flight since ${formatTime(m.inFlightSinceMs)})`,
    )
    .join('; ');
}

/** The last runs, one per line, for failure messages. */
function describeRuns(runs: readonly ItemRun[], last = 60): string {
  return runs
    .slice(-last)
    .map(
      (run) =>
        `  item ${run.item} ${run.instanceId} ${formatTime(run.startMs)}..` +
        `${run.stopMs === undefined ? '' : formatTime(run.stopMs)} ${run.outcome}`,
    )
    .join('\n');
}
