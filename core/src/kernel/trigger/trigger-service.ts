/**
 * One-off triggers (ElasticJob `triggerJob` / `triggerAllInstances`): a durable
 * `trigger/{instanceId}` node asks that instance to run its items once; the instance deletes it
 * and runs (or runs once after its current run: triggers are coalesced, never dropped).
 *
 * @module
 */
import type { RunLanes } from '../execution/run-lanes.js';
import type { JobContext } from '../job-context.js';

/** Trigger nodes of one job. */
export class TriggerService {
  constructor(
    private readonly context: JobContext,
    private readonly lanes: RunLanes,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** Called for a `trigger/{instanceId}` event naming this instance. */
  onTrigger(): void {
    const { registry, paths, instance, logger } = this.context;
    this.track(
      registry.remove(paths.trigger(instance.jobInstanceId)).catch((error: unknown) => {
        logger.error({ err: error }, 'could not delete the trigger node');
      }),
    );
    this.lanes.trigger();
  }

  /** Asks every live instance of the job to run once: writes `trigger/{instanceId}` for each. */
  async triggerAllInstances(): Promise<void> {
    const { registry, paths } = this.context;
    for (const id of await registry.getChildrenKeys(paths.instances))
      await registry.persist(paths.trigger(id), '');
  }
}
