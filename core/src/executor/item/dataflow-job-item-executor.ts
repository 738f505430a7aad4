/**
 * The item executor of {@link DataflowJob}s (ElasticJob `DataflowJobExecutor`).
 *
 * @module
 */
import type { DataflowJob, JobItemExecutor, JobRuntime } from '../../job/elastic-job.js';
import type { ShardingContext } from '../../job/sharding-context.js';
import { booleanProp, type Props } from '../props.js';

/** Prop: `true` loops fetch → process; `false` fetches once. @defaultValue 'false' */
export const STREAMING_PROCESS_PROP = 'streaming.process';

/**
 * Reads `streaming.process` from a job's props.
 *
 * @param props - the job's props.
 * @param jobName - for the error message.
 * @throws {JobConfigurationError} (field `props.streaming.process`) when the value is neither
 * `true` nor `false` (case-insensitive).
 */
export function isStreamingProcess(props: Props, jobName: string): boolean {
  return booleanProp(props, STREAMING_PROCESS_PROP, false, { what: 'DataflowJob', jobName });
}

/**
 * Runs a {@link DataflowJob} item (ElasticJob `DataflowJobExecutor`):
 *
 * - one-off (`streaming.process=false`, the default): `fetchData` once, then `processData` if the
 *   batch is non-empty;
 * - streaming (`streaming.process=true`): fetch → process in a loop that ends when a fetch returns
 *   `null`/`undefined`/empty, when {@link JobRuntime.isNeedSharding} turns true (checked after every
 *   batch), or when the context's `signal` aborted (checked before every fetch). Ending the loop on
 *   abort is not an error: the batch in hand was processed and the kernel sees `signal.aborted`.
 *
 * The prop is read from the configuration of the current run (`runtime.configuration`), so a
 * change applies from the next run, never to a loop already running (as in ElasticJob).
 * Errors from `fetchData`/`processData` fail the item.
 */
export class DataflowJobItemExecutor implements JobItemExecutor {
  /** The user's job. */
  readonly job: DataflowJob;

  /** @param job - the user's job. */
  constructor(job: DataflowJob) {
    this.job = job;
  }

  /**
   * Runs the item.
   * @throws {JobConfigurationError} for a bad `streaming.process`; whatever the job throws.
   */
  async process(context: ShardingContext, runtime: JobRuntime): Promise<void> {
    if (!isStreamingProcess(runtime.configuration.props, context.jobName)) {
      const data = await this.job.fetchData(context);
      if (data != null && data.length > 0) await this.job.processData(context, data);
      return;
    }
    while (!context.signal.aborted) {
      const data = await this.job.fetchData(context);
      if (data == null || data.length === 0) return;
      await this.job.processData(context, data);
      if (context.signal.aborted || (await runtime.isNeedSharding())) return;
    }
  }
}
