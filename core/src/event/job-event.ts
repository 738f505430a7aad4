/**
 * Job events (ElasticJob tracing): {@link JobExecutionEvent} per item, {@link JobStatusTraceEvent}
 * per run phase.
 *
 * @module
 */

/** What started a run. */
export type ExecutionSource = 'NORMAL_TRIGGER' | 'MISFIRE' | 'FAILOVER';

/** One item's execution (ElasticJob `JobExecutionEvent`); the start and completion share `id`. */
export interface JobExecutionEvent {
  readonly kind: 'execution';
  /** UUID shared by the start and the completion of one item execution. */
  readonly id: string;
  readonly hostname: string;
  readonly ip: string;
  readonly taskId: string;
  readonly jobName: string;
  readonly source: ExecutionSource;
  readonly shardingItem: number;
  /** Epoch ms. */
  readonly startTimeMs: number;
  /**
   * The scheduled time of the cron fire the run serves, epoch ms (the item's
   * `ShardingContext.scheduledFireTimeMs`); absent for one-off triggers, misfire re-runs and
   * failover runs. A cron run held back past its next fire (a resharding to wait for, a slow
   * admission) starts after that fire: this tells it from a second run of the later fire.
   */
  readonly scheduledFireTimeMs?: number;
  /** Epoch ms; absent on the start event. */
  readonly completeTimeMs?: number;
  /** Absent on the start event. */
  readonly success?: boolean;
  /** Stack trace or message of the failure. */
  readonly failureCause?: string;
}

/** Run states Lite emits (ElasticJob `JobStatusTraceEvent.State`). */
export type JobRunState = 'TASK_STAGING' | 'TASK_RUNNING' | 'TASK_FINISHED' | 'TASK_ERROR';

/** One phase of a run (ElasticJob `JobStatusTraceEvent`). */
export interface JobStatusTraceEvent {
  readonly kind: 'status';
  readonly id: string;
  readonly jobName: string;
  readonly taskId: string;
  /** The instance's IP (ElasticJob `slaveId`). */
  readonly slaveId: string;
  readonly source: ExecutionSource;
  readonly executionType: 'READY';
  /** The run's items. */
  readonly shardingItems: readonly number[];
  readonly state: JobRunState;
  readonly message: string;
  /** Epoch ms. */
  readonly creationTimeMs: number;
}

/** A resharding the leader committed (posted on the leader only). */
export interface JobReshardingEvent {
  readonly kind: 'resharding';
  readonly id: string;
  readonly jobName: string;
  /** The leader's job instance id. */
  readonly leaderInstanceId: string;
  /** Sharding items per job instance id after the resharding. */
  readonly assignment: Readonly<Record<string, readonly number[]>>;
  /** Epoch ms. */
  readonly creationTimeMs: number;
}

/** Any job event. */
export type JobEvent = JobExecutionEvent | JobStatusTraceEvent | JobReshardingEvent;

/** Receives job events. Called asynchronously; errors are logged, never affect the run. */
export type JobEventListener = (event: JobEvent) => void | Promise<void>;
