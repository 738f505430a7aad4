/**
 * The guarantee service behind distribute-once listeners (ElasticJob `GuaranteeService`): every instance registers its items under `guarantee/started` (or
 * `completed`); the instance that completes the set runs the callback once, under
 * `guarantee/started-latch`, then deletes the set, which wakes the others. Unlike ElasticJob the
 * waits are bounded and event-driven with a re-check loop, so a wake-up between the check and the
 * wait is never lost.
 *
 * @module
 */
import type { RegistryTransactionOperation } from '../../registry/registry-center.js';
import type { JobContext } from '../job-context.js';
import { JobSetupError } from '../job-setup-error.js';
import { executeInChunks } from '../transaction-chunks.js';

/** Which phase of a run. */
export type GuaranteePhase = 'started' | 'completed';

/** Coordinates "once per cluster run" callbacks. */
export class GuaranteeService {
  readonly #deletions: Record<GuaranteePhase, number> = { started: 0, completed: 0 };

  /** The phase roots, `guarantee/{phase}` (built once: every deletion event is compared). */
  readonly #roots: Record<GuaranteePhase, string>;

  constructor(private readonly context: JobContext) {
    this.#roots = {
      started: context.paths.full('guarantee/started'),
      completed: context.paths.full('guarantee/completed'),
    };
  }

  /** Called by the job for every registry event; counts deletions of the phase roots. */
  onEvent(key: string, type: string): void {
    if (type !== 'DELETED') return;
    for (const phase of ['started', 'completed'] as const) {
      if (key === this.#roots[phase]) {
        this.#deletions[phase]++;
        this.context.waiters.notify();
      }
    }
  }

  #root(phase: GuaranteePhase): string {
    return this.#roots[phase];
  }

  /**
   * Registers `items` for `phase`; if the set is complete, runs `callback` once for the cluster;
   * otherwise waits (bounded) until the instance that completed it has run it.
   *
   * @param phase - `started` (before the run) or `completed` (after it).
   * @param items - this instance's items of the run.
   * @param timeoutMs - bound of the wait in ms.
   * @param callback - the once-per-cluster work.
   * @throws {JobSetupError} when the wait times out (the set is then deleted so the next run starts clean).
   */
  async coordinate(
    phase: GuaranteePhase,
    items: readonly number[],
    timeoutMs: number,
    callback: () => void | Promise<void>,
  ): Promise<void> {
    const { registry, paths } = this.context;
    const root = this.#root(phase);
    const seen = this.#deletions[phase];
    await this.#register(root, items);
    const total = this.context.configuration().shardingTotalCount;
    const complete = async () => {
      const count = await registry.getNumChildren(root);
      return phase === 'started' ? count === total : count >= total;
    };
    if (await complete()) {
      await registry.executeInLeader(paths.full(`guarantee/${phase}-latch`), async () => {
        if (!(await complete())) return;
        try {
          await callback();
        } finally {
          await registry.remove(root);
        }
      });
      return;
    }
    const deadline = this.context.clock.now() + timeoutMs;
    const mine = `${root}/${items[0]}`;
    for (;;) {
      const remaining = deadline - this.context.clock.now();
      if (remaining <= 0) break;
      await this.context.waiters.waitFor(
        () => this.#deletions[phase] > seen || this.context.isShutdown(),
        remaining,
      );
      if (this.context.isShutdown()) return;
      if (!(await registry.isExisted(mine))) return; // the set we joined was completed and cleared
    }
    await registry.remove(root);
    throw new JobSetupError(
      paths.jobName,
      `Job '${paths.jobName}': distribute-once '${phase}' timed out after ${timeoutMs} ms waiting for every sharding item to register`,
    );
  }

  async #register(root: string, items: readonly number[]): Promise<void> {
    const { registry } = this.context;
    const ops: RegistryTransactionOperation[] = [];
    const guarantee = root.slice(0, root.lastIndexOf('/'));
    if (!(await registry.isExisted(guarantee))) ops.push({ type: 'create', key: guarantee, value: '' });
    if (!(await registry.isExisted(root))) ops.push({ type: 'create', key: root, value: '' });
    for (const item of items) ops.push({ type: 'create', key: `${root}/${item}`, value: '' });
    try {
      await executeInChunks(registry, ops);
    } catch {
      // Lost a race creating the roots: fall back to idempotent writes.
      for (const item of items) await registry.persist(`${root}/${item}`, '');
    }
  }
}
