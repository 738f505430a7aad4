/**
 * The one admission gate every run passes (cron fire, misfire re-run, failover run, trigger),
 * per item, under the current registry session:
 *
 * 1. the session condition: connected, and after a `LOST` re-registered and a resharding committed
 *    after the return seen (see {@link SessionService});
 * 2. the item is assigned to this instance (or, for a failover run, claimed by it), is not being
 *    failed over to another live instance, is not disabled, and has
 *    no `running` node of another live instance (an empty value is a Java ElasticJob peer's
 *    ephemeral node: live, never taken over);
 * 3. ONE transaction (chunked, falling back per item) per run: `check` this instance's
 *    `instances/{id}` node (a server-side session fence), `check` that `sharding/{item}/instance`
 *    (or `/failover`) holds this instance's id, create `running` (or compare-and-set a stale one
 *    of a dead owner), and advance the per-item fencing counter `sharding/{item}/fencing` by
 *    compare-and-set. The counter's new value is the run's fencing token.
 *
 * With `monitorExecution: false` (ElasticJob's switch for jobs that fire too often to track) step
 * 3 is skipped: nothing is written and no registry round trip is made on the fire path; the item's
 * assignment is taken from the watch cache, the run gets fencing token 0, and nothing keeps two
 * instances from running an item at once after a session loss (ElasticJob does not either).
 *
 * @module
 */
import type { RegistryTransactionOperation } from '../../registry/registry-center.js';
import { RegistryError } from '../../registry/registry-error.js';
import type { ServerService } from '../instance/server-service.js';
import type { SessionService } from '../instance/session-service.js';
import type { JobContext } from '../job-context.js';
import { packGroups } from '../transaction-chunks.js';
import {
  type FencingStamp,
  fireAlreadyServed,
  formatFencingStamp,
  nextFencingStamp,
  parseFencingStamp,
} from './fencing-stamp.js';
import type { KnownItemNodes, OwnItemWrites } from './own-item-writes.js';

/** Which kind of run asks: own items, or items this instance claimed by failover. */
export type AdmissionMode = 'OWN' | 'FAILOVER';

/** The outcome of one admission. */
export interface Admission {
  /** Admitted items and the fencing stamps their runs wrote (token 0: none), ascending by item. */
  readonly admitted: ReadonlyMap<number, FencingStamp>;
  /** Refused items and why. */
  readonly refused: ReadonlyMap<number, string>;
  /** The session epoch the admission was made under. */
  readonly epoch: number;
  /**
   * Items whose running marks were written (with these fencing stamps) while the session ended:
   * refused, and the marks are the run's to clear. Absent when there are none.
   */
  readonly abandoned?: ReadonlyMap<number, FencingStamp>;
}

/** What every direct admission of one run shares. */
interface DirectAdmission {
  /** The `check` of this instance's `instances/{id}` node. */
  readonly fence: RegistryTransactionOperation;
  /** The cron fire the run serves, if it is a cron run. */
  readonly scheduledFireTimeMs: number | undefined;
}

/** Why a run serving `scheduledFireTimeMs` may not run an item with this fencing value, if so. */
function servedRefusal(
  fencing: string | undefined,
  scheduledFireTimeMs: number | undefined,
): string | undefined {
  const stamp = parseFencingStamp(fencing);
  if (!fireAlreadyServed(stamp, scheduledFireTimeMs)) return undefined;
  return `the fire of ${new Date(stamp.lastFireTimeMs as number).toISOString()} has run`;
}

/** Whether `map`'s keys are in ascending order (admitted in item order: the usual case). */
function ascending(map: ReadonlyMap<number, unknown>): boolean {
  let previous = Number.NEGATIVE_INFINITY;
  for (const key of map.keys()) {
    if (key < previous) return false;
    previous = key;
  }
  return true;
}

interface ItemPlan {
  readonly item: number;
  readonly ops: RegistryTransactionOperation[];
  readonly stamp: FencingStamp;
}

/** Decides which items a run may execute, and marks them running, conditionally on ownership. */
export class AdmissionService {
  constructor(
    private readonly context: JobContext,
    private readonly servers: ServerService,
    private readonly session: SessionService,
    /**
     * This instance's own last writes of the items' nodes: planned on while the cache does not
     * show them yet (their watch events lag), so an admission does not compare stale values.
     */
    private readonly ownWrites: OwnItemWrites,
  ) {}

  /**
   * Admits what it can of `items` and writes their `running` nodes and fencing counters.
   *
   * @param mode - `OWN` (assigned items) or `FAILOVER` (claimed items).
   * @param items - candidate items.
   * @param epoch - the session epoch the run started in: nothing is admitted if it has ended.
   * @param scheduledFireTimeMs - for a cron run, the fire it serves: an item whose fencing stamp
   *   records that fire or a later one is refused, and the fire is recorded with the new token.
   * @throws {RegistryError} other than a failed transaction (those refuse the items concerned).
   */
  async admit(
    mode: AdmissionMode,
    items: readonly number[],
    epoch: number,
    scheduledFireTimeMs?: number,
  ): Promise<Admission> {
    const refused = new Map<number, string>();
    const admitted = new Map<number, FencingStamp>();
    const refuseAll = (reason: string) => {
      for (const item of items) refused.set(item, reason);
      return { admitted, refused, epoch };
    };
    if (epoch !== this.session.epoch) return refuseAll('the registry session of the run has ended');
    if (!this.session.admissionOpen)
      return refuseAll('the registry session is suspended or not re-established yet');
    if (!this.context.configuration().monitorExecution) return this.#admitUnmonitored(mode, items, epoch);
    const plans: ItemPlan[] = [];
    const direct: number[] = [];
    const me = this.context.instance.jobInstanceId;
    for (const item of [...items].sort((a, b) => a - b)) {
      const known = this.#cached(item);
      const reason = this.#refusal(mode, item) ?? servedRefusal(known.fencing, scheduledFireTimeMs);
      if (reason !== undefined) refused.set(item, reason);
      // A failover run replaces only a mark of its own or of a gone instance (its claim deleted
      // any other): a mark of another instance in the cache is a run admitted since (an owner's
      // admission racing the claim), or one the claim deleted. Direct reads decide which.
      else if (mode === 'FAILOVER' && known.running !== undefined && known.running !== me) direct.push(item);
      else plans.push(this.#plan(mode, item, known, scheduledFireTimeMs));
    }
    if (plans.length === 0 && direct.length === 0) return { admitted, refused, epoch };
    const fence: RegistryTransactionOperation = {
      type: 'check',
      key: this.context.paths.instance(this.context.instance.jobInstanceId),
    };
    // Packed behind the fence as the registry's meter allows; transactions run one after another.
    for (const chunk of packGroups(
      this.context.registry,
      plans.map((plan) => plan.ops),
      [fence],
    )) {
      const batch = chunk.map((i) => plans[i] as ItemPlan);
      try {
        await this.context.registry.executeInTransaction([fence, ...batch.flatMap((plan) => plan.ops)]);
        for (const plan of batch) {
          admitted.set(plan.item, plan.stamp);
          this.ownWrites.admitted(plan.item, plan.stamp, me);
        }
      } catch (error) {
        // Outcome unknown or a comparison failed: the record is no guide any more.
        for (const plan of batch) this.ownWrites.forget(plan.item);
        if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
        if (error.failedOperationIndex === 0) {
          for (const plan of batch) refused.set(plan.item, 'own instance node is gone (session ended)');
          continue;
        }
        await this.#admitEachDirectly(
          mode,
          batch.map((plan) => plan.item),
          { fence, scheduledFireTimeMs },
          admitted,
          refused,
        );
      }
    }
    if (direct.length > 0)
      await this.#admitEachDirectly(mode, direct, { fence, scheduledFireTimeMs }, admitted, refused);
    if (epoch !== this.session.epoch && admitted.size > 0) {
      // The session ended while the marks were written: they are not ours to run on, and they
      // name this instance, live again, so nobody else would ever clear them.
      for (const item of admitted.keys()) refused.set(item, 'the registry session ended during admission');
      return { admitted: new Map(), refused, epoch, abandoned: admitted };
    }
    return {
      admitted: ascending(admitted) ? admitted : new Map([...admitted].sort((a, b) => a[0] - b[0])),
      refused,
      epoch,
    };
  }

  /**
   * Admission without `running` marks (`monitorExecution: false`): the cache's checks plus the
   * item's assignment to this instance, also from the cache; token 0, nothing written.
   */
  #admitUnmonitored(mode: AdmissionMode, items: readonly number[], epoch: number): Admission {
    const { cache, paths, instance } = this.context;
    const ownership = mode === 'OWN' ? 'instance' : 'failover';
    const admitted = new Map<number, FencingStamp>();
    const refused = new Map<number, string>();
    for (const item of [...items].sort((a, b) => a - b)) {
      const owner = cache.get(paths.shardingNode(item, ownership));
      const reason =
        this.#refusal(mode, item) ??
        (owner === instance.jobInstanceId ? undefined : `assigned to ${owner ?? 'nobody'}`);
      if (reason === undefined) admitted.set(item, { token: 0 });
      else refused.set(item, reason);
    }
    return { admitted, refused, epoch };
  }

  /**
   * The cheap part of admission, from the watch cache: the items of `items` that may be admitted
   * (the transaction of {@link admit} decides), and why the others may not.
   */
  precheck(
    mode: AdmissionMode,
    items: readonly number[],
  ): { eligible: number[]; refused: Map<number, string> } {
    const eligible: number[] = [];
    const refused = new Map<number, string>();
    for (const item of items) {
      const reason = this.#refusal(mode, item);
      if (reason === undefined) eligible.push(item);
      else refused.set(item, reason);
    }
    return { eligible, refused };
  }

  /** Why `item` may not run now (cache), or `undefined`. */
  #refusal(mode: AdmissionMode, item: number): string | undefined {
    const { cache, paths, instance } = this.context;
    const me = instance.jobInstanceId;
    if (mode === 'OWN') {
      if (cache.has(paths.shardingNode(item, 'disabled'))) return 'disabled';
      const failover = cache.get(paths.shardingNode(item, 'failover'));
      if (failover !== undefined && failover !== me && this.servers.isLive(failover))
        return `being failed over to ${failover}`;
    }
    // A failover claim read the item's nodes directly under the latch just now, and the cache may
    // not show its writes yet: the transaction, and the direct reads after it fails, decide.
    if (mode === 'FAILOVER') return undefined;
    const running = cache.get(paths.shardingNode(item, 'running'));
    if (running === '') return 'running on a Java ElasticJob instance';
    if (running !== undefined && running !== me && this.servers.isLive(running))
      return `running on ${running}`;
    return undefined;
  }

  /** The item's `running` and `fencing` values: the cache's, or this instance's newer own writes. */
  #cached(item: number): KnownItemNodes {
    const { cache, paths, instance } = this.context;
    const running = cache.get(paths.shardingNode(item, 'running'));
    const fencing = cache.get(paths.shardingNode(item, 'fencing'));
    return this.ownWrites.resolve(
      item,
      {
        ...(running === undefined ? {} : { running }),
        ...(fencing === undefined ? {} : { fencing }),
      },
      instance.jobInstanceId,
    );
  }

  /** The operations that admit `item`, given what is known of its `running` and `fencing` nodes. */
  #plan(
    mode: AdmissionMode,
    item: number,
    known: KnownItemNodes,
    scheduledFireTimeMs: number | undefined,
  ): ItemPlan {
    const { paths, instance } = this.context;
    const me = instance.jobInstanceId;
    const ownership = mode === 'OWN' ? 'instance' : 'failover';
    const running = paths.shardingNode(item, 'running');
    const fencing = paths.shardingNode(item, 'fencing');
    const ops: RegistryTransactionOperation[] = [
      { type: 'check', key: paths.shardingNode(item, ownership), value: me },
    ];
    if (known.running === undefined) ops.push({ type: 'create', key: running, value: me });
    else
      ops.push(
        { type: 'check', key: running, value: known.running },
        { type: 'update', key: running, value: me },
      );
    const stamp = nextFencingStamp(parseFencingStamp(known.fencing), scheduledFireTimeMs);
    const value = formatFencingStamp(stamp);
    if (known.fencing === undefined) ops.push({ type: 'create', key: fencing, value });
    else
      ops.push(
        { type: 'check', key: fencing, value: known.fencing },
        { type: 'update', key: fencing, value },
      );
    return { item, ops, stamp };
  }

  /**
   * {@link #admitDirectly} for every item of `items` at once: items are independent, and one after
   * the other 64 items would hold the run for hundreds of round trips.
   *
   * @throws the first error of an attempt (a registry error other than a failed transaction).
   */
  async #admitEachDirectly(
    mode: AdmissionMode,
    items: readonly number[],
    run: DirectAdmission,
    admitted: Map<number, FencingStamp>,
    refused: Map<number, string>,
  ): Promise<void> {
    const outcomes = await Promise.allSettled(
      items.map((item) => this.#admitDirectly(mode, item, run, admitted, refused)),
    );
    // Every attempt has settled before an error is thrown: no admission lands after this returns.
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  }

  /** Re-reads one item's nodes directly and tries to admit it alone. */
  async #admitDirectly(
    mode: AdmissionMode,
    item: number,
    { fence, scheduledFireTimeMs }: DirectAdmission,
    admitted: Map<number, FencingStamp>,
    refused: Map<number, string>,
  ): Promise<void> {
    const { registry, paths, instance } = this.context;
    const me = instance.jobInstanceId;
    const ownership = mode === 'OWN' ? 'instance' : 'failover';
    const owner = await registry.getDirectly(paths.shardingNode(item, ownership));
    if (owner !== me) {
      refused.set(item, mode === 'OWN' ? `assigned to ${owner ?? 'nobody'}` : 'no longer claimed here');
      return;
    }
    if (mode === 'OWN') {
      const failover = await registry.getDirectly(paths.shardingNode(item, 'failover'));
      if (failover !== undefined && failover !== me && (await registry.isExisted(paths.instance(failover)))) {
        refused.set(item, `being failed over to ${failover}`);
        return;
      }
    }
    const running = await registry.getDirectly(paths.shardingNode(item, 'running'));
    if (running === '') {
      refused.set(item, 'running on a Java ElasticJob instance');
      return;
    }
    if (running !== undefined && running !== me && (await registry.isExisted(paths.instance(running)))) {
      refused.set(item, `running on ${running}`);
      return;
    }
    const fencing = await registry.getDirectly(paths.shardingNode(item, 'fencing'));
    const served = servedRefusal(fencing, scheduledFireTimeMs);
    if (served !== undefined) {
      refused.set(item, served);
      return;
    }
    const plan = this.#plan(
      mode,
      item,
      {
        ...(running === undefined ? {} : { running }),
        ...(fencing === undefined ? {} : { fencing }),
      },
      scheduledFireTimeMs,
    );
    try {
      await registry.executeInTransaction([fence, ...plan.ops]);
      admitted.set(item, plan.stamp);
      this.ownWrites.admitted(item, plan.stamp, me);
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      refused.set(
        item,
        `lost a race for the item (${error.cause instanceof Error ? error.cause.message : 'changed'})`,
      );
    }
  }
}
