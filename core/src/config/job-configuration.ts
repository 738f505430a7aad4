/**
 * The job configuration model: every ElasticJob field, with the builder defaults.
 *
 * @module
 */

/**
 * A job's configuration as users write it (ElasticJob `JobConfiguration`). Absent optional fields
 * take the ElasticJob builder defaults listed on each field; the registry copy always has every key.
 */
export interface JobConfiguration {
  /** Identity and registry path segment (`/{namespace}/{jobName}`); letters, digits, `_`, `-`, `.`. */
  readonly jobName: string;
  /** Quartz cron (seconds first, `?`, `L`, `W`, `#`, optional year). Absent or `''` = one-off job. */
  readonly cron?: string;
  /** Time zone of `cron`: an IANA name (`Asia/Shanghai`) or ElasticJob's `GMT+08:00` form; `''` = unset. @defaultValue the process's zone */
  readonly timeZone?: string;
  /** Number of sharding items `0..n-1`; an integer > 0. */
  readonly shardingTotalCount: number;
  /** `item=parameter` pairs joined by `,`, e.g. `0=Beijing,1=Shanghai`; grammar of `parseShardingItemParameters`. @defaultValue '' */
  readonly shardingItemParameters?: string;
  /** Parameter passed to every item. @defaultValue '' */
  readonly jobParameter?: string;
  /** Write `running` nodes, skip items still running; required by `failover`. @defaultValue true */
  readonly monitorExecution?: boolean;
  /** Move a crashed instance's in-flight items to survivors (needs `monitorExecution`). @defaultValue false */
  readonly failover?: boolean;
  /** Re-run items whose fire was missed because the previous run overran. @defaultValue true */
  readonly misfire?: boolean;
  /** Max tolerated clock difference to the registry, in seconds; < 0 disables the check. @defaultValue -1 */
  readonly maxTimeDiffSeconds?: number;
  /** Reconcile period in minutes; <= 0 disables reconcile. @defaultValue 10 */
  readonly reconcileIntervalMinutes?: number;
  /** Sharding strategy type: `AVG_ALLOCATION`, `ODEVITY`, `ROUND_ROBIN`, `SINGLE_SHARDING_BALANCE`, or a registered custom type (`''` = default). @defaultValue 'AVG_ALLOCATION' */
  readonly jobShardingStrategyType?: string;
  /** Item concurrency: `CPU` (available parallelism × 2) or `SINGLE_THREAD` (1). @defaultValue 'CPU' */
  readonly jobExecutorThreadPoolSizeProviderType?: string;
  /** Error handler type: `LOG`, `THROW`, `IGNORE`, or a registered type. @defaultValue 'LOG' */
  readonly jobErrorHandlerType?: string;
  /** Types of registered `ElasticJobListener`s to attach. @defaultValue [] */
  readonly jobListenerTypes?: readonly string[];
  /** ElasticJob's extra configurations (YAML `jobExtraConfigurations`), kept verbatim. @defaultValue [] */
  readonly extraConfigurations?: readonly unknown[];
  /** Free text. @defaultValue '' */
  readonly description?: string;
  /** Executor and handler properties (e.g. `script.command.line`, `streaming.process`). @defaultValue {} */
  readonly props?: Readonly<Record<string, string>>;
  /** Start this server disabled — only when the registry has no operator state for it. @defaultValue false */
  readonly disabled?: boolean;
  /** Local configuration replaces the registry copy at startup. @defaultValue false */
  readonly overwrite?: boolean;
  /** Free label, stored only. */
  readonly label?: string;
  /** Once assigned, membership changes do not reshard (total count changes still do). @defaultValue false */
  readonly staticSharding?: boolean;
}

/** A {@link JobConfiguration} with every default applied. */
export interface ResolvedJobConfiguration {
  readonly jobName: string;
  /** `''` for a one-off job. */
  readonly cron: string;
  /** `undefined` = the process's time zone. */
  readonly timeZone: string | undefined;
  readonly shardingTotalCount: number;
  readonly shardingItemParameters: string;
  readonly jobParameter: string;
  readonly monitorExecution: boolean;
  readonly failover: boolean;
  readonly misfire: boolean;
  readonly maxTimeDiffSeconds: number;
  readonly reconcileIntervalMinutes: number;
  readonly jobShardingStrategyType: string;
  readonly jobExecutorThreadPoolSizeProviderType: string;
  readonly jobErrorHandlerType: string;
  readonly jobListenerTypes: readonly string[];
  readonly extraConfigurations: readonly unknown[];
  readonly description: string;
  readonly props: Readonly<Record<string, string>>;
  readonly disabled: boolean;
  readonly overwrite: boolean;
  readonly label: string | undefined;
  readonly staticSharding: boolean;
}
