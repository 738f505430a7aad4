/**
 * Registry paths of one job, exactly ElasticJob 3.0.x's layout, relative to the
 * namespace: `/{jobName}/config`, `/{jobName}/servers/{ip}`, `/{jobName}/instances/{id}`, ...
 *
 * @module
 */

/** Builds the registry paths of one job. */
export class JobNodePath {
  /** `/{jobName}`: the job root, holding the job class name. */
  readonly root: string;

  /** @param jobName - the job's name (one registry path segment). */
  constructor(readonly jobName: string) {
    this.root = `/${jobName}`;
  }

  /** `/{jobName}/{relative}`. */
  full(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** The path relative to the job root, or `undefined` if `path` is not below it (the root itself gives `''`). */
  relative(path: string): string | undefined {
    if (path === this.root) return '';
    return path.startsWith(`${this.root}/`) ? path.slice(this.root.length + 1) : undefined;
  }

  /** `config`: the job configuration YAML (persistent). */
  get config(): string {
    return this.full('config');
  }
  /** `servers`: one child per server IP. */
  get servers(): string {
    return this.full('servers');
  }
  /** `servers/{ip}`: `ENABLED` or `DISABLED` (operator state). */
  server(ip: string): string {
    return this.full(`servers/${ip}`);
  }
  /** `instances`: one ephemeral child per live job instance. */
  get instances(): string {
    return this.full('instances');
  }
  /** `instances/{instanceId}`: ephemeral, instance YAML (`jobInstanceId`, `serverIp`). */
  instance(instanceId: string): string {
    return this.full(`instances/${instanceId}`);
  }
  /** `sharding`: one child per sharding item. */
  get sharding(): string {
    return this.full('sharding');
  }
  /** `sharding/{item}`. */
  shardingItem(item: number): string {
    return this.full(`sharding/${item}`);
  }
  /**
   * `sharding/{item}/{node}` with node `instance`, `running`, `misfire`, `disabled`, `failover`,
   * `failovering`, or `fencing` (this implementation's per-item fencing counter; ElasticJob
   * ignores it).
   */
  shardingNode(item: number, node: ShardingItemNode): string {
    return this.full(`sharding/${item}/${node}`);
  }
  /** `leader/election/instance`: ephemeral, the leader's instance id. */
  get leaderInstance(): string {
    return this.full('leader/election/instance');
  }
  /** `leader/election/latch`: the election mutex (Curator LeaderLatch layout). */
  get leaderLatch(): string {
    return this.full('leader/election/latch');
  }
  /** `leader/sharding/necessary`: the resharding flag. */
  get shardingNecessary(): string {
    return this.full('leader/sharding/necessary');
  }
  /** `leader/sharding/processing`: ephemeral, set while the leader reshards. */
  get shardingProcessing(): string {
    return this.full('leader/sharding/processing');
  }
  /** `leader/failover/items`: items queued for a failover executor. */
  get failoverItems(): string {
    return this.full('leader/failover/items');
  }
  /** `leader/failover/items/{item}`. */
  failoverItem(item: number): string {
    return this.full(`leader/failover/items/${item}`);
  }
  /** `leader/failover/latch`: the failover claim mutex. */
  get failoverLatch(): string {
    return this.full('leader/failover/latch');
  }
  /** `trigger`: one-off trigger requests. */
  get triggerRoot(): string {
    return this.full('trigger');
  }
  /** `trigger/{instanceId}`: a durable request that this instance runs once. */
  trigger(instanceId: string): string {
    return this.full(`trigger/${instanceId}`);
  }
  /** `shutdown/{instanceId}`: an operator's durable command to shut that instance's job down. */
  shutdownCommand(instanceId: string): string {
    return this.full(`shutdown/${instanceId}`);
  }
  /** `systemTime/current`: scratch node for the registry-time check. */
  get systemTime(): string {
    return this.full('systemTime/current');
  }
}

/** Child nodes of `sharding/{item}`. */
export type ShardingItemNode =
  | 'instance'
  | 'running'
  | 'misfire'
  | 'disabled'
  | 'failover'
  | 'failovering'
  | 'fencing';

/** Value of a `servers/{ip}` node. */
export type ServerStatus = 'ENABLED' | 'DISABLED';
