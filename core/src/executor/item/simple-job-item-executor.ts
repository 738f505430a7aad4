/**
 * The item executor of {@link SimpleJob}s (ElasticJob `SimpleJobExecutor`).
 *
 * @module
 */
import type { JobItemExecutor, SimpleJob } from '../../job/elastic-job.js';
import type { ShardingContext } from '../../job/sharding-context.js';

/** Runs `job.execute(context)` once per item; a throw or rejection fails the item. */
export class SimpleJobItemExecutor implements JobItemExecutor {
  /** The user's job. */
  readonly job: SimpleJob;

  /** @param job - the user's job. */
  constructor(job: SimpleJob) {
    this.job = job;
  }

  /** Runs the item. @throws whatever `execute` throws. */
  async process(context: ShardingContext): Promise<void> {
    await this.job.execute(context);
  }
}
