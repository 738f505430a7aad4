/**
 * The slice of a job bootstrap (`ScheduleJobBootstrap` / `OneOffJobBootstrap`) that metrics,
 * tracing and spans read: core's public getters and event subscription, nothing internal.
 *
 * @module
 */
import type { JobEventListener } from '@elasticjob-ts/core';

/** A started job on this instance. */
export interface ObservableJob {
  /** The configuration in force; only `jobName` is read. */
  readonly configuration: { readonly jobName: string };
  /** Items waiting for a failover executor, as this instance sees them. */
  readonly failoverBacklog: number;
  /** Whether this instance is the job's leader. */
  isLeader(): boolean;
  /** Subscribes to the job's events on this instance; returns the unsubscribe function. */
  subscribe(listener: JobEventListener): () => void;
  /** Next cron fire time, epoch ms (cron jobs only). */
  readonly nextFireTimeMs?: number | undefined;
}
