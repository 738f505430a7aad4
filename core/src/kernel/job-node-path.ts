/**
 * Registry paths of one job, exactly ElasticJob 3.0.x's layout (reference §3), relative to the
 * namespace: `/{jobName}/config`, `/{jobName}/servers/{ip}`, `/{jobName}/instances/{id}`, ...
 *
 * @module
 */

/** Builds the registry paths of one job. */
export class JobNodePath {
  /** `/{jobName}`: the job root, holding the job class name. */
  readonly root: string;

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

  get config(): string {
    return this.full('config');
  }
  get servers(): string {
    return this.full('servers');
  }
  server(ip: string): string {
    return this.full(`servers/${ip}`);
  }
  get instances(): string {
    return this.full('instances');
  }
  instance(instanceId: string): string {
    return this.full(`instances/${instanceId}`);
  }
  get sharding(): string {
    return this.full('sharding');
  }
  shardingItem(item: number): string {
    return this.full(`sharding/${item}`);
  }
  /** `sharding/{item}/{node}` with node `instance`, `running`, `misfire`, `disabled`, `failover`, `failovering`. */
  shardingNode(item: number, node: ShardingItemNode): string {
    return this.full(`sharding/${item}/${node}`);
  }
  get leaderInstance(): string {
    return this.full('leader/election/instance');
  }
  get leaderLatch(): string {
    return this.full('leader/election/latch');
  }
  get shardingNecessary(): string {
    return this.full('leader/sharding/necessary');
  }
  get shardingProcessing(): string {
    return this.full('leader/sharding/processing');
  }
  get failoverItems(): string {
    return this.full('leader/failover/items');
  }
  failoverItem(item: number): string {
    return this.full(`leader/failover/items/${item}`);
  }
  get failoverLatch(): string {
    return this.full('leader/failover/latch');
  }
  get triggerRoot(): string {
    return this.full('trigger');
  }
  trigger(instanceId: string): string {
    return this.full(`trigger/${instanceId}`);
  }
  /** `shutdown/{instanceId}`: an operator's durable command to shut that instance's job down. */
  shutdownCommand(instanceId: string): string {
    return this.full(`shutdown/${instanceId}`);
  }
  get systemTime(): string {
    return this.full('systemTime/current');
  }
}

/** Child nodes of `sharding/{item}`. */
export type ShardingItemNode = 'instance' | 'running' | 'misfire' | 'disabled' | 'failover' | 'failovering';

/** Value of a `servers/{ip}` node. */
export type ServerStatus = 'ENABLED' | 'DISABLED';
