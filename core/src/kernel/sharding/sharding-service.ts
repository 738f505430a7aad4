/**
 * Resharding and assignments (ElasticJob `ShardingService`). The leader reshards as soon as
 * membership or the total count changes (not at its next fire) and never waits for running items:
 * an item whose owner is gone is reassigned at once (its in-flight run is covered by failover), and
 * an item still running on its previous live owner is skipped by the new owner's admission until
 * that run ends. The plan is computed from membership read directly from the registry, and the
 * commit checks every instance node it used, in the transaction that clears the resharding flag:
 * when membership changed meanwhile, the resharding is redone. Followers read assignments
 * directly after every resharding (read-your-writes).
 *
 * @module
 */

import type { JobInstance } from '../../instance/index.js';
import type { RegistryTransactionOperation } from '../../registry/registry-center.js';
import { RegistryError } from '../../registry/registry-error.js';
import { logBackgroundFailure } from '../background-failure.js';
import type { CoordinationTurn } from '../coordination-queue.js';
import type { LeaderService } from '../election/leader-service.js';
import type { ServerService } from '../instance/server-service.js';
import { type JobContext, withinMs } from '../job-context.js';
import { executeInChunks } from '../transaction-chunks.js';
import { planAssignment, readAvailableInstances, registryHoldsAssignment } from './assignment-plan.js';
import { removedItemOps } from './removed-items.js';

/** Interval of the direct re-check while waiting for the resharding flag to go, in ms. */
const FLAG_RECHECK_MS = 1000;

/** How many times a resharding is redone when membership changes while it commits. */
const MAX_RESHARDING_ATTEMPTS = 5;

/** Resharding (leader) and the local view of assignments (everyone). */
export class ShardingService {
  #requested = false;
  #forced = false;
  /** A fire waits for the requested pass: it goes first in the coordination queue. */
  #urgent = false;
  #retryDelayMs = 0;
  #retryTimer: { cancel(): void } | undefined;
  #loop: Promise<void> | undefined;
  /** Authoritative assignment read directly after the last resharding; `undefined` = re-read needed. */
  #assignment: Map<number, string> | undefined;
  /** Incremented by every invalidation: a read that overlapped one is not kept. */
  #assignmentGeneration = 0;

  constructor(
    private readonly context: JobContext,
    private readonly servers: ServerService,
    private readonly leader: LeaderService,
    private readonly turn: CoordinationTurn,
  ) {}

  /** Whether the resharding flag `leader/sharding/necessary` is set (cache). */
  isNeedSharding(): boolean {
    return this.context.cache.has(this.context.paths.shardingNecessary);
  }

  /** Marks the local assignment stale after a sharding-related event. */
  invalidateAssignment(): void {
    this.#assignment = undefined;
    this.#assignmentGeneration++;
  }

  /**
   * Asks for resharding. Only the leader acts; requests arriving while a resharding runs are
   * coalesced into one more pass.
   *
   * @param force - reshard even if the current assignment looks valid (membership, server or
   *   total-count changes: ElasticJob's `setReshardingFlag`); otherwise only when
   *   {@link needsResharding}.
   * @param urgent - a fire waits for it: the pass goes ahead of the reshardings of jobs that fire
   *   later (see `coordination-queue.ts`); otherwise it is due at the job's next fire.
   * @returns resolves when the resharding loop that covers this request has finished.
   */
  requestResharding(force = false, urgent = false): Promise<void> {
    this.#requested = true;
    if (force) this.#forced = true;
    if (urgent) this.#urgent = true;
    this.#loop ??= this.#passes();
    return this.#loop;
  }

  /**
   * Resharding passes while requests keep arriving (see {@link requestResharding}). The loop
   * clears `#loop` in the same turn of the event loop as its last look at `#requested`: a request
   * arriving after that look starts a new loop. (Clearing it in a `.finally()` of the returned
   * promise left a few microtasks in between, in which a request could join a loop that had
   * already decided to end, and be lost.)
   */
  async #passes(): Promise<void> {
    await undefined; // the caller assigns `#loop` before the first look
    // Right after a commit the cached assignment may still be the previous one: a request
    // that is not forced (a flag event, possibly of this pass's own write) then only checks
    // the flag. Membership changes after the commit come with forced requests of their own.
    let justCommitted = false;
    try {
      while (this.#requested && !this.context.isShutdown()) {
        this.#requested = false;
        const forced = this.#forced;
        this.#forced = false;
        const due = this.#urgent ? this.context.clock.now() : undefined;
        this.#urgent = false;
        if (!this.leader.isLeader()) break;
        const passed = await this.turn(() => this.#pass(forced, justCommitted), due);
        if (passed !== undefined) justCommitted = passed;
      }
    } finally {
      this.#loop = undefined; // in the same turn as the last look at `#requested`
    }
  }

  /**
   * One resharding pass (in the job's turn on the coordination queue).
   *
   * @returns whether it committed a resharding; `undefined` when none was needed (or this instance
   *   no longer leads, or the job shut down while the pass waited for its turn).
   */
  async #pass(forced: boolean, justCommitted: boolean): Promise<boolean | undefined> {
    if (this.context.isShutdown() || !this.leader.isLeader()) return undefined;
    if (!forced && !(await this.#needsReshardingNow(justCommitted))) return undefined;
    let committed: boolean;
    try {
      committed = await this.#reshard();
      this.#retryDelayMs = 0;
    } catch (error) {
      this.#scheduleRetry();
      throw error;
    }
    if (!committed) return false;
    // A flag set again after the commit (a returning instance) asks for one more. Read
    // directly: the cache may still show the flag this pass wrote, its deletion late.
    if (await this.context.registry.isExisted(this.context.paths.shardingNecessary)) {
      this.#requested = true;
      this.#forced = true;
    }
    return true;
  }

  /** After a failed resharding: try again after 1 s, doubling up to 30 s, until one succeeds. */
  #scheduleRetry(): void {
    if (this.context.isShutdown()) return; // a pass that outlived the shutdown: after close()
    this.#retryDelayMs = Math.min(30_000, Math.max(1000, this.#retryDelayMs * 2));
    this.#retryTimer?.cancel();
    this.#retryTimer = this.context.clock.setTimeout(
      () => {
        this.#retryTimer = undefined;
        if (!this.context.isShutdown() && this.leader.isLeader()) {
          this.requestResharding(true).catch((error: unknown) => {
            logBackgroundFailure(this.context, error, 'resharding retry failed');
          });
        }
      },
      this.#retryDelayMs,
      { unref: true },
    );
  }

  /** Cancels a pending resharding retry (shutdown). */
  close(): void {
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
  }

  /**
   * Whether resharding is needed now: the flag is set, no assignment exists yet, the total count
   * changed, or an item is assigned to an instance that is gone or unavailable.
   */
  needsResharding(): boolean {
    return this.isNeedSharding() || this.#assignmentNeedsResharding();
  }

  /**
   * Whether a run must wait for a resharding: the flag is set, or this instance leads and its
   * assignment needs one that has not started yet (a membership change whose pass waits for its
   * turn). Cache only.
   */
  reshardingPending(): boolean {
    return this.isNeedSharding() || (this.leader.isLeader() && this.#assignmentNeedsResharding());
  }

  /**
   * {@link needsResharding} with the flag read directly: the cache may still show a flag that a
   * resharding of this leader has cleared since (its own write, delivered late), which would
   * otherwise start the next resharding, and so on.
   *
   * @param flagOnly - check only the flag, not the cached assignment (right after a commit).
   */
  async #needsReshardingNow(flagOnly: boolean): Promise<boolean> {
    const { registry, paths } = this.context;
    if (await registry.isExisted(paths.shardingNecessary)) return true;
    return !flagOnly && this.#assignmentNeedsResharding();
  }

  /**
   * Whether the assignment in the cache is incomplete, of the wrong size, or names a gone owner.
   * An item beyond the count without an owner is a removed item's leftover (see {@link #commit}).
   */
  #assignmentNeedsResharding(): boolean {
    const { cache, paths } = this.context;
    const config = this.context.configuration();
    const total = config.shardingTotalCount;
    const available = new Set(this.servers.availableInstances().map((i) => i.jobInstanceId));
    const owners = new Map<number, string>();
    for (const name of cache.children(paths.sharding)) {
      const item = Number(name);
      if (!Number.isInteger(item)) return true; // not an item: the commit removes it
      const owner = cache.get(paths.shardingNode(item, 'instance'));
      if (owner === undefined) continue;
      if (item >= total) return true; // removed by a smaller count, still assigned
      owners.set(item, owner);
    }
    if (owners.size === 0) return available.size > 0;
    if (config.staticSharding) return owners.size !== total;
    for (let item = 0; item < total; item++) {
      const owner = owners.get(item);
      if (owner === undefined ? available.size > 0 : !available.has(owner)) return true;
    }
    return false;
  }

  /** @returns whether a resharding was committed (none without available instances). */
  async #reshard(): Promise<boolean> {
    const { registry, paths } = this.context;
    let instances = await readAvailableInstances(this.context);
    if (!(await registry.isExisted(paths.shardingNecessary))) {
      // A forced pass nobody flagged (a membership or configuration event, possibly late, or the
      // second event of one join): when the registry already holds the plan, committing it again
      // changes nothing and would only show the job as resharding. A flag set meanwhile comes
      // with an event of its own, which asks for another pass.
      const config = this.context.configuration();
      const { owner } = planAssignment(config, instances);
      if (
        instances.length > 0 &&
        (await registryHoldsAssignment(registry, paths, owner, config.shardingTotalCount))
      )
        return false;
      await registry.persist(paths.shardingNecessary, '');
    }
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) instances = await readAvailableInstances(this.context);
      if (instances.length === 0) return false;
      const outcome = await this.#commit(instances);
      if (outcome === 'committed') return true;
      if (outcome === 'not-leader') return false;
      if (attempt >= MAX_RESHARDING_ATTEMPTS) {
        // The retry (with backoff) re-creates the marker; meanwhile it must not outlive this pass.
        await registry.remove(paths.shardingProcessing);
        throw outcome;
      }
      this.context.logger.info('membership changed while resharding: redoing it');
    }
  }

  /**
   * Commits one plan; a changed membership comes back as the error to redo on. The commit is
   * fenced on leadership: an instance whose cache still names it leader after it lost the
   * election (a late watch after a session loss) reads the leader node before it starts, and its
   * commit checks that node's value, so it never overwrites the real leader's assignment.
   */
  async #commit(instances: readonly JobInstance[]): Promise<'committed' | 'not-leader' | RegistryError> {
    const { registry, paths, logger, instance: self } = this.context;
    if ((await registry.getDirectly(paths.leaderInstance)) !== self.jobInstanceId) {
      logger.info('not the leader any more: resharding left to the leader');
      return 'not-leader';
    }
    const config = this.context.configuration();
    const total = config.shardingTotalCount;
    const { byInstance, owner } = planAssignment(config, instances);

    await registry.persistEphemeral(paths.shardingProcessing, '');
    // Item parents first (idempotent), so the assignment itself stays small.
    const existingItems = new Set(await registry.getChildrenKeys(paths.sharding));
    for (let item = 0; item < total; item++) {
      if (!existingItems.has(String(item))) await registry.persist(paths.shardingItem(item), '');
    }
    const ops: RegistryTransactionOperation[] = [];
    for (let item = 0; item < total; item++) {
      const instancePath = paths.shardingNode(item, 'instance');
      const instanceExists = existingItems.has(String(item)) && (await registry.isExisted(instancePath));
      const newOwner = owner.get(item);
      if (newOwner === undefined) {
        if (instanceExists) ops.push({ type: 'delete', key: instancePath });
      } else {
        ops.push({ type: instanceExists ? 'update' : 'create', key: instancePath, value: newOwner });
      }
    }
    ops.push(...(await removedItemOps(registry, paths, existingItems, total))); // see removed-items.ts
    // Membership is the instance nodes used and the ENABLED status of their servers: an operator's
    // DISABLED written after the read fails the commit like a departed instance does.
    const membership: RegistryTransactionOperation[] = instances.map(
      (i) => ({ type: 'check', key: paths.instance(i.jobInstanceId) }) as const,
    );
    for (const ip of new Set(instances.map((i) => i.serverIp)))
      membership.push({ type: 'check', key: paths.server(ip), value: 'ENABLED' });
    try {
      // One transaction up to the chunk bound; beyond, chunks whose last one checks membership and
      // clears the flag, so followers (who read assignments only once the flag is gone) never act
      // on a partial or stale one.
      await executeInChunks(registry, ops, {
        prefix: [{ type: 'check', key: paths.root }],
        last: [
          { type: 'check', key: paths.leaderInstance, value: self.jobInstanceId },
          ...membership,
          { type: 'delete', key: paths.shardingNecessary },
          { type: 'delete', key: paths.shardingProcessing },
        ],
      });
    } catch (error) {
      if (
        RegistryError.is(error, 'TRANSACTION_FAILED') &&
        (error.path?.startsWith(`${paths.instances}/`) ||
          error.path?.startsWith(`${paths.servers}/`) ||
          error.path?.startsWith(`${paths.sharding}/`))
      ) {
        return error; // membership changed, or a node of a removed item went meanwhile: redo
      }
      if (RegistryError.is(error, 'TRANSACTION_FAILED') && error.path === paths.leaderInstance) {
        // Leadership ended during the pass. The marker is left to the new leader: its pass
        // re-creates it and its commit deletes it, which a removal here could make fail.
        logger.info('leadership ended while resharding: resharding left to the new leader');
        return 'not-leader';
      }
      // Verify: an unknown outcome (connection loss) may have committed; never leave zombies.
      if (!(await this.#committed(owner, total))) {
        await registry.remove(paths.shardingProcessing);
        logger.error({ err: error }, 'resharding failed; retrying with backoff');
        throw error;
      }
    }
    this.#assignmentGeneration++; // a read in progress started before this commit
    this.#assignment = new Map(owner);
    const assignment = Object.fromEntries([...byInstance].map(([id, items]) => [id, [...items]]));
    logger.info({ assignment }, 'resharding committed');
    if (this.context.events.hasSubscribers)
      this.context.events.post({
        kind: 'resharding',
        id: this.context.newId(),
        jobName: config.jobName,
        leaderInstanceId: self.jobInstanceId,
        assignment,
        creationTimeMs: this.context.clock.now(),
      });
    return 'committed';
  }

  async #committed(owner: ReadonlyMap<number, string>, total: number): Promise<boolean> {
    const { registry, paths } = this.context;
    if (await registry.isExisted(paths.shardingNecessary)) return false;
    return registryHoldsAssignment(registry, paths, owner, total);
  }

  /**
   * Waits until no resharding is pending (the flag is gone), asking the leader to reshard when
   * this instance is the leader. Bounded by `timeoutMs`.
   *
   * @returns `false` when resharding is still pending after the timeout.
   */
  async waitUntilSharded(timeoutMs: number): Promise<boolean> {
    const deadline = this.context.clock.now() + timeoutMs;
    if (this.leader.isLeader() && this.needsResharding()) {
      // Bounded too: the pass may wait for its turn behind other jobs' passes.
      const pass = this.requestResharding(false, true).catch((error: unknown) => {
        logBackgroundFailure(this.context, error, 'resharding failed');
      });
      await withinMs(this.context.clock, pass, timeoutMs);
    }
    return this.waitForFlagCleared(Math.max(0, deadline - this.context.clock.now()));
  }

  /**
   * Waits until the resharding flag is gone: on the cache's events, and with a direct read once per
   * second meanwhile, so a deletion the watch did not report (a re-synchronised watch after a
   * session loss) does not hold a run or a returning instance for the whole bound.
   *
   * @returns `false` when the flag is still set after `timeoutMs`.
   */
  async waitForFlagCleared(timeoutMs: number): Promise<boolean> {
    const { clock, registry, paths, waiters } = this.context;
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - clock.now();
      const slice = Math.min(FLAG_RECHECK_MS, Math.max(0, remaining));
      if (await waiters.waitFor(() => !this.isNeedSharding() || this.context.isShutdown(), slice))
        return true;
      if (!(await registry.isExisted(paths.shardingNecessary))) {
        this.invalidateAssignment();
        return true;
      }
      if (clock.now() >= deadline) return false;
    }
  }

  /**
   * Items assigned to this instance (ElasticJob `getLocalShardingItems`): empty unless this
   * instance is available. Reads the assignment directly once after each resharding.
   */
  async localItems(): Promise<number[]> {
    const { registry, paths, instance } = this.context;
    if (!this.servers.isLocalInstanceAvailable()) return [];
    const total = this.context.configuration().shardingTotalCount;
    let assignment = this.#assignment;
    if (assignment === undefined) {
      const generation = this.#assignmentGeneration;
      assignment = new Map<number, string>();
      for (let item = 0; item < total; item++) {
        const owner = await registry.getDirectly(paths.shardingNode(item, 'instance'));
        if (owner !== undefined) assignment.set(item, owner);
      }
      // A resharding seen during the read may have changed items read before it: use this read
      // once, but keep it only if nothing changed meanwhile (a kept stale read would never be
      // read again, and an item moved here would never run).
      if (generation === this.#assignmentGeneration) this.#assignment = assignment;
    }
    const items: number[] = [];
    for (const [item, owner] of assignment) {
      if (owner === instance.jobInstanceId && item < total) items.push(item);
    }
    return items.sort((a, b) => a - b);
  }
}
