/**
 * Misfired items run as soon as the overrun that misfired them ends, whoever owns them after a
 * resharding: when an item's `running` node is deleted while its `sharding/{item}/misfire` flag is
 * set and the item is assigned to this instance, this instance runs its misfired items now (a
 * join or a graceful leave costs no fire). The flags themselves are written by the run lanes
 * (a fire during a run) and cleared by the misfire re-run.
 *
 * @module
 */
import type { RunLanes } from '../execution/run-lanes.js';
import type { JobContext } from '../job-context.js';

/** Reacts to `sharding/{item}/running` deletions for misfired items. */
export class MisfireListener {
  constructor(
    private readonly context: JobContext,
    private readonly lanes: RunLanes,
  ) {}

  /** Called for every `sharding/{item}/running` or `/misfire` event. */
  onItemEvent(item: number, node: string, type: string): void {
    const { cache, paths, instance } = this.context;
    const freed = node === 'running' && type === 'DELETED';
    const flagged = node === 'misfire' && type === 'ADDED';
    if (!freed && !flagged) return;
    if (!cache.has(paths.shardingNode(item, 'misfire'))) return;
    if (cache.get(paths.shardingNode(item, 'instance')) !== instance.jobInstanceId) return;
    if (cache.has(paths.shardingNode(item, 'running'))) return;
    if (this.lanes.normalBusy) return; // the lane re-runs misfired items when its run ends
    this.lanes.requestMisfire();
  }
}
