/**
 * Registry paths of one job, exactly ElasticJob 3.0.x's layout, relative to the
 * namespace: `/{jobName}/config`, `/{jobName}/servers/{ip}`, `/{jobName}/instances/{id}`, ...
 *
 * @module
 */

/**
 * Items whose `sharding/{item}/{node}` paths are kept once built: every fire of a job reads and
 * writes several nodes of each of its items, and a path built anew is a new string to allocate
 * and to hash in every map lookup.
 */
const MEMOIZED_ITEMS = 1024;

/** Builds the registry paths of one job. */
export class JobNodePath {
  /** `/{jobName}`: the job root, holding the job class name. */
  readonly root: string;
  /** `/{jobName}/`: what every path below the root starts with. */
  readonly #prefix: string;
  /** `sharding/{item}/{node}` paths built so far, by item (items below {@link MEMOIZED_ITEMS}). */
  readonly #itemNodes: Partial<Record<ShardingItemNode, string>>[] = [];
  readonly #fixed = new Map<string, string>();
  /** `instances/{id}` and `servers/{ip}` paths built so far, by id or IP (bounded). */
  readonly #instances = new Map<string, string>();
  readonly #servers = new Map<string, string>();

  /** @param jobName - the job's name (one registry path segment). */
  constructor(readonly jobName: string) {
    this.root = `/${jobName}`;
    this.#prefix = `${this.root}/`;
  }

  /** `/{jobName}/{relative}`. */
  full(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** The path relative to the job root, or `undefined` if `path` is not below it (the root itself gives `''`). */
  relative(path: string): string | undefined {
    if (path === this.root) return '';
    return path.startsWith(this.#prefix) ? path.slice(this.#prefix.length) : undefined;
  }

  /** {@link full} of a fixed relative path, built once. */
  #fixedPath(relative: string): string {
    let path = this.#fixed.get(relative);
    if (path === undefined) {
      path = this.full(relative);
      this.#fixed.set(relative, path);
    }
    return path;
  }

  /** `config`: the job configuration YAML (persistent). */
  get config(): string {
    return this.#fixedPath('config');
  }
  /** `servers`: one child per server IP. */
  get servers(): string {
    return this.#fixedPath('servers');
  }
  /** `servers/{ip}`: `ENABLED` or `DISABLED` (operator state). */
  server(ip: string): string {
    return childPath(this.#servers, this.servers, ip);
  }
  /** `instances`: one ephemeral child per live job instance. */
  get instances(): string {
    return this.#fixedPath('instances');
  }
  /** `instances/{instanceId}`: ephemeral, instance YAML (`jobInstanceId`, `serverIp`). */
  instance(instanceId: string): string {
    return childPath(this.#instances, this.instances, instanceId);
  }
  /** `sharding`: one child per sharding item. */
  get sharding(): string {
    return this.#fixedPath('sharding');
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
    if (!(Number.isInteger(item) && item >= 0 && item < MEMOIZED_ITEMS))
      return this.full(`sharding/${item}/${node}`);
    let nodes = this.#itemNodes[item];
    if (nodes === undefined) {
      nodes = {};
      this.#itemNodes[item] = nodes;
    }
    let path = nodes[node];
    if (path === undefined) {
      path = this.full(`sharding/${item}/${node}`);
      nodes[node] = path;
    }
    return path;
  }
  /** `leader/election/instance`: ephemeral, the leader's instance id. */
  get leaderInstance(): string {
    return this.#fixedPath('leader/election/instance');
  }
  /** `leader/election/latch`: the election mutex (Curator LeaderLatch layout). */
  get leaderLatch(): string {
    return this.#fixedPath('leader/election/latch');
  }
  /** `leader/sharding/necessary`: the resharding flag. */
  get shardingNecessary(): string {
    return this.#fixedPath('leader/sharding/necessary');
  }
  /** `leader/sharding/processing`: ephemeral, set while the leader reshards. */
  get shardingProcessing(): string {
    return this.#fixedPath('leader/sharding/processing');
  }
  /** `leader/failover/items`: items queued for a failover executor. */
  get failoverItems(): string {
    return this.#fixedPath('leader/failover/items');
  }
  /** `leader/failover/items/{item}`. */
  failoverItem(item: number): string {
    return this.full(`leader/failover/items/${item}`);
  }
  /** `leader/failover/latch`: the failover claim mutex. */
  get failoverLatch(): string {
    return this.#fixedPath('leader/failover/latch');
  }
  /** `trigger`: one-off trigger requests. */
  get triggerRoot(): string {
    return this.#fixedPath('trigger');
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
    return this.#fixedPath('systemTime/current');
  }
}

/** Paths kept per map of {@link childPath}; past it the map starts over (instance ids churn). */
const MEMOIZED_NAMES = 1024;

/** `{parent}/{name}`, kept in `memo` by name. */
function childPath(memo: Map<string, string>, parent: string, name: string): string {
  let path = memo.get(name);
  if (path === undefined) {
    path = `${parent}/${name}`;
    if (memo.size >= MEMOIZED_NAMES) memo.clear();
    memo.set(name, path);
  }
  return path;
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
