/**
 * Leader election (ElasticJob `LeaderService`): through the `leader/election/latch` mutex, the
 * first instance that finds no `leader/election/instance` node writes its id there (ephemeral).
 * Re-election is driven by the node's DELETED event, never by a polling loop.
 *
 * @module
 */

import type { ServerService } from '../instance/server-service.js';
import type { JobContext } from '../job-context.js';

/** Election of the job's leader. */
export class LeaderService {
  constructor(
    private readonly context: JobContext,
    private readonly servers: ServerService,
  ) {}

  /**
   * Becomes leader if there is none and this instance may lead (not shut down, server enabled).
   *
   * @returns whether this instance is the leader afterwards (direct read).
   */
  async electLeader(): Promise<boolean> {
    const { registry, paths, instance } = this.context;
    await registry.executeInLeader(paths.leaderLatch, async () => {
      if (this.context.isShutdown() || !this.servers.isServerEnabled(instance.serverIp)) return;
      if (await registry.isExisted(paths.leaderInstance)) return;
      await registry.persistEphemeral(paths.leaderInstance, instance.jobInstanceId);
    });
    return (await registry.getDirectly(paths.leaderInstance)) === instance.jobInstanceId;
  }

  /** Whether the cache says this instance is the leader. */
  isLeader(): boolean {
    const { cache, paths, instance } = this.context;
    return !this.context.isShutdown() && cache.get(paths.leaderInstance) === instance.jobInstanceId;
  }

  /** Whether some instance is leader (cache). */
  hasLeader(): boolean {
    return this.context.cache.has(this.context.paths.leaderInstance);
  }

  /** Gives up leadership if held (abdication when disabled, shutdown). Checks ownership directly. */
  async abdicate(): Promise<void> {
    const { registry, paths, instance } = this.context;
    if ((await registry.getDirectly(paths.leaderInstance)) === instance.jobInstanceId) {
      await registry.remove(paths.leaderInstance);
    }
  }
}
