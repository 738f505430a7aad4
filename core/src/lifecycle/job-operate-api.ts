/**
 * {@link JobOperateAPI}: trigger, disable, enable, shut down and remove jobs and servers.
 *
 * @module
 */
import { isIP } from 'node:net';
import type { ServerStatus } from '../kernel/job-node-path.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import {
  deliverShutdown,
  type JobShutdownOptions,
  type ShutdownDelivery,
  type ShutdownTarget,
} from './instance-shutdown.js';
import { ServerNotFoundError } from './lifecycle-errors.js';
import {
  assertTargetArguments,
  compareAscending,
  describe,
  LifecycleRegistry,
  SHUTDOWN_COMMAND_NODE,
  shutdownCommandPath,
} from './lifecycle-registry.js';

/** Options of {@link JobOperateAPI.disable} and {@link JobOperateAPI.enable}. */
export interface JobServerStatusOptions {
  /**
   * With a job name and a server IP: write `servers/{serverIp}` even though the job does not know
   * that server yet (pre-disabling a host before it joins). The IP must still be a valid IPv4 or
   * IPv6 address. Without it, an unknown server is a {@link ServerNotFoundError}. @defaultValue false
   */
  readonly force?: boolean;
}

/** One `servers/{ip}` node of one job, as affected by a server operation. */
export interface JobServerTarget {
  /** The job. */
  readonly jobName: string;
  /** The server IP (`servers/{serverIp}`). */
  readonly serverIp: string;
}

/** One live job instance, as affected by {@link JobOperateAPI.shutdown}. */
export interface JobInstanceTarget {
  /** The job. */
  readonly jobName: string;
  /** The instance id (`instances/{instanceId}`). */
  readonly instanceId: string;
  /** The instance's IP (from its instance YAML). */
  readonly serverIp: string;
  /**
   * How the shutdown reached it: `SHUTDOWN_COMMAND` — it acted on the `shutdown/{instanceId}`
   * command (an ElasticJob-TS instance), or the call did not wait (`fallback: false`);
   * `INSTANCE_NODE_DELETED` — it did not act within `commandTimeoutMs` (a Java ElasticJob instance,
   * or a stuck one), so its instance node was deleted, ElasticJob's own protocol.
   */
  readonly delivery: ShutdownDelivery;
}

/** What {@link JobOperateAPI.remove} did. */
export interface JobRemovalResult {
  /** Instances shut down (see {@link JobInstanceTarget.delivery}). */
  readonly instances: readonly JobInstanceTarget[];
  /** `servers/{ip}` nodes deleted. */
  readonly servers: readonly JobServerTarget[];
}

/**
 * Operator commands on running jobs, over the registry only (ElasticJob's `JobOperateAPI`,
 * `lifecycle/api/JobOperateAPI.java`). The server operations take an optional job
 * name and an optional server IP, like ElasticJob: **both** = that server of that job; **job only**
 * = every server (or instance) of the job; **IP only** = that server in every job that has it. At
 * least one is required.
 *
 * Operator state wins: a server disabled here stays disabled when its instances restart, whatever
 * their local `disabled` setting (ElasticJob #537 rewrote it).
 *
 * Every method reads the registry directly, validates its arguments (a `TypeError` names the
 * argument), and rejects with the registry's {@link RegistryError} when the registry fails.
 *
 * @example
 * ```ts
 * const api = new JobOperateAPI(registry);
 * await api.disable(undefined, '10.0.0.7'); // take a host out of every job before maintenance
 * await api.trigger('orders'); // every live instance runs its items once now
 * await api.shutdown('orders', '10.0.0.8'); // stop the job on one host
 * ```
 */
export class JobOperateAPI {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the jobs' namespace (not closed by this API). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * Runs the job once now on every live instance (ElasticJob `triggerAllInstances`): writes
   * `trigger/{instanceId}` for every `instances/{instanceId}` node, after deleting trigger nodes of
   * instances that are gone. Each instance runs its own sharding items once; a trigger that arrives
   * during a run is kept and runs right after it (ElasticJob drops it).
   *
   * @param jobName - the job.
   * @returns the ids of the instances triggered, in the registry's order (`[]` when none is live).
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {RegistryError} when the registry fails.
   */
  async trigger(jobName: string): Promise<string[]> {
    const paths = await this.#reader.requireJob(jobName);
    const registry = this.#reader.registry;
    const live = await this.#reader.liveInstances(jobName);
    const liveIds = new Set(live.map((instance) => instance.instanceId));
    for (const stale of await registry.getChildrenKeys(paths.triggerRoot)) {
      if (!liveIds.has(stale)) await registry.remove(paths.trigger(stale));
    }
    for (const instance of live) await registry.persist(paths.trigger(instance.instanceId), '');
    return live.map((instance) => instance.instanceId);
  }

  /**
   * Disables servers: writes `DISABLED` to the matching `servers/{ip}` nodes. Instances on a
   * disabled server get no sharding items, cannot lead (a leader abdicates), and the leader moves
   * their items to the other instances at once (ElasticJob's leader-abdication and resharding
   * listeners). With both arguments the server must be known to the job (a `servers/{ip}` node or a
   * live instance on that IP) unless `options.force` pre-disables a host before it joins —
   * ElasticJob writes any IP, so a typo disables nothing and leaves a stray node.
   *
   * @param jobName - the job; omit for "every job that has `serverIp`".
   * @param serverIp - the server; omit for "every server of `jobName`".
   * @param options - `force` (see {@link JobServerStatusOptions}).
   * @returns the `servers/{ip}` nodes written, sorted by job then IP (`[]` when the job has no server yet).
   * @throws {TypeError} when both are omitted, naming the argument that is invalid, or naming
   *   `serverIp` when an unknown server is not an IPv4/IPv6 address.
   * @throws {JobNotFoundError} when `jobName` is given and has no `config` node.
   * @throws {ServerNotFoundError} when `serverIp` is unknown to `jobName` (without `force`), or to
   *   every job when only `serverIp` is given; it lists the known servers.
   * @throws {RegistryError} when the registry fails.
   */
  disable(
    jobName?: string,
    serverIp?: string,
    options: JobServerStatusOptions = {},
  ): Promise<JobServerTarget[]> {
    return this.#setServerStatus(jobName, serverIp, 'DISABLED', options);
  }

  /**
   * Enables servers: writes `ENABLED` to the matching `servers/{ip}` nodes (the reverse of
   * {@link disable}, with the same target rules); the leader reshards to include their instances.
   *
   * @param jobName - the job; omit for "every job that has `serverIp`".
   * @param serverIp - the server; omit for "every server of `jobName`".
   * @param options - `force` (see {@link JobServerStatusOptions}).
   * @returns the `servers/{ip}` nodes written, sorted by job then IP.
   * @throws {TypeError} as {@link disable}.
   * @throws {JobNotFoundError} when `jobName` is given and has no `config` node.
   * @throws {ServerNotFoundError} as {@link disable}.
   * @throws {RegistryError} when the registry fails.
   */
  enable(
    jobName?: string,
    serverIp?: string,
    options: JobServerStatusOptions = {},
  ): Promise<JobServerTarget[]> {
    return this.#setServerStatus(jobName, serverIp, 'ENABLED', options);
  }

  /**
   * Shuts the job down on the matching live instances — an explicit, durable operator command.
   *
   * ElasticJob deletes the target `instances/{id}` nodes and lets each instance react to the
   * deletion; that conflates a command with a session expiry (ElasticJob #1857, #2383), and this
   * kernel re-creates a vanished own instance node. Instead, for every matching live instance this
   * writes the persistent node **`/{jobName}/shutdown/{instanceId}`** (value `''`; see
   * {@link shutdownCommandPath}) and leaves the instance node alone, so peers do not mistake the
   * stopping instance for a crashed one while it drains. Command nodes of instances that are no
   * longer live are deleted in the same call. The kernel's side of the protocol:
   *
   * 1. On `shutdown/{ownId}` `ADDED`/`UPDATED` (also when found in the snapshot delivered after a
   *    reconnect), and before re-creating a deleted own `instances/{ownId}` node (checked with a
   *    direct read), the instance shuts the job down locally as `shutdown()` does: no more fires,
   *    running items aborted and drained, leadership released, its instance node deleted.
   * 2. Then it deletes `shutdown/{ownId}` (the acknowledgement).
   * 3. At startup, before registering its instance node, it deletes a leftover `shutdown/{ownId}`:
   *    such a command was addressed to a previous incarnation that died before acting on it.
   *
   * **Mixed clusters.** Java ElasticJob instances ignore the `shutdown` node (an extra child of the
   * job root). So the call then waits, up to `options.commandTimeoutMs` (default 10 s), for every
   * target to act — its instance node disappears or it deletes its command — and for each one that
   * does not, falls back to ElasticJob's own protocol: it deletes `instances/{instanceId}`, which a
   * Java instance answers by shutting the job down. Each result says which path reached the
   * instance ({@link JobInstanceTarget.delivery}). An ElasticJob-TS instance still draining a long
   * run when the bound expires treats the deletion as the command too (the command node is still
   * there), but its peers may fail its items over early: give a bound above the jobs' drain time.
   * `fallback: false` restores the fire-and-forget behaviour.
   *
   * @param jobName - the job; omit for "every job with an instance on `serverIp`".
   * @param serverIp - the server (matched against each instance's `serverIp`); omit for "every
   *   instance of `jobName`".
   * @param options - bound and fallback (see {@link JobShutdownOptions}).
   * @returns the instances shut down, sorted by job then instance id (`[]` when none is live).
   * @throws {TypeError} when both are omitted, naming the argument that is invalid, or for an
   *   unknown `serverIp` that is not an IPv4/IPv6 address.
   * @throws {JobNotFoundError} when `jobName` is given and has no `config` node.
   * @throws {ServerNotFoundError} when `serverIp` is unknown to `jobName`, or to every job when only
   *   `serverIp` is given.
   * @throws {RegistryError} when the registry fails.
   */
  async shutdown(
    jobName?: string,
    serverIp?: string,
    options: JobShutdownOptions = {},
  ): Promise<JobInstanceTarget[]> {
    assertTargetArguments(jobName, serverIp);
    const jobs = await this.#jobsFor(jobName, serverIp);
    const targets: ShutdownTarget[] = [];
    for (const job of jobs) targets.push(...(await this.#shutdownTargets(job, serverIp)));
    return deliverShutdown(this.#reader.registry, targets, options);
  }

  /**
   * {@link shutdown} (with its fallback for Java instances), then deletes the matching
   * `servers/{ip}` nodes (ElasticJob `remove`), so the server no longer appears in the job.
   *
   * @param jobName - the job; omit for "every job that has `serverIp`".
   * @param serverIp - the server; omit for "every server of `jobName`".
   * @param options - bound and fallback of the shutdown (see {@link JobShutdownOptions}).
   * @returns the instances shut down and the server nodes deleted.
   * @throws {TypeError}, {@link JobNotFoundError}, {@link ServerNotFoundError} as {@link shutdown}.
   * @throws {RegistryError} when the registry fails.
   */
  async remove(
    jobName?: string,
    serverIp?: string,
    options: JobShutdownOptions = {},
  ): Promise<JobRemovalResult> {
    assertTargetArguments(jobName, serverIp);
    const jobs = await this.#jobsFor(jobName, serverIp);
    const registry = this.#reader.registry;
    const targets: ShutdownTarget[] = [];
    for (const job of jobs) targets.push(...(await this.#shutdownTargets(job, serverIp)));
    const instances = await deliverShutdown(registry, targets, options);
    const servers: JobServerTarget[] = [];
    for (const job of jobs) {
      const paths = this.#reader.paths(job);
      const ips = serverIp === undefined ? await registry.getChildrenKeys(paths.servers) : [serverIp];
      for (const ip of [...ips].sort(compareAscending)) {
        if (!(await registry.isExisted(paths.server(ip)))) continue;
        await registry.remove(paths.server(ip));
        servers.push({ jobName: job, serverIp: ip });
      }
    }
    return { instances, servers };
  }

  async #setServerStatus(
    jobName: string | undefined,
    serverIp: string | undefined,
    status: ServerStatus,
    options: JobServerStatusOptions,
  ): Promise<JobServerTarget[]> {
    assertTargetArguments(jobName, serverIp);
    const registry = this.#reader.registry;
    const targets: JobServerTarget[] = [];
    if (jobName !== undefined) {
      const paths = await this.#reader.requireJob(jobName);
      if (serverIp !== undefined) await this.#requireServerOfJob(jobName, serverIp, options.force === true);
      const ips = serverIp === undefined ? await registry.getChildrenKeys(paths.servers) : [serverIp];
      for (const ip of [...ips].sort(compareAscending)) {
        await registry.persist(paths.server(ip), status);
        targets.push({ jobName, serverIp: ip });
      }
      return targets;
    }
    for (const job of await this.#jobsFor(undefined, serverIp)) {
      const path = this.#reader.paths(job).server(serverIp as string);
      if (!(await registry.isExisted(path))) continue; // only an instance on that IP, no server node
      await registry.persist(path, status);
      targets.push({ jobName: job, serverIp: serverIp as string });
    }
    return targets;
  }

  /**
   * The jobs an operation covers: `[jobName]` (checked), or every job that has `serverIp` as a
   * server node or as a live instance's IP.
   */
  async #jobsFor(jobName: string | undefined, serverIp: string | undefined): Promise<string[]> {
    if (jobName !== undefined) {
      await this.#reader.requireJob(jobName);
      if (serverIp !== undefined) await this.#requireServerOfJob(jobName, serverIp, false);
      return [jobName];
    }
    const ip = serverIp as string;
    const registry = this.#reader.registry;
    const jobs: string[] = [];
    const knownIps = new Set<string>();
    for (const job of await this.#reader.listJobNames()) {
      const paths = this.#reader.paths(job);
      const ips = await registry.getChildrenKeys(paths.servers);
      const instanceIps = (await this.#reader.liveInstances(job)).map((instance) => instance.serverIp);
      for (const each of [...ips, ...instanceIps]) knownIps.add(each);
      if (ips.includes(ip) || instanceIps.includes(ip)) jobs.push(job);
    }
    if (jobs.length === 0) {
      assertIpAddress(ip);
      throw new ServerNotFoundError(ip, registry.namespace, [...knownIps].sort(compareAscending));
    }
    return jobs;
  }

  /**
   * Checks that `serverIp` is a server of the job (`servers/{ip}` or a live instance's IP); an
   * unknown one must be an IP address, and is refused unless `force`.
   */
  async #requireServerOfJob(jobName: string, serverIp: string, force: boolean): Promise<void> {
    const paths = this.#reader.paths(jobName);
    const [servers, instances] = await Promise.all([
      this.#reader.registry.getChildrenKeys(paths.servers),
      this.#reader.liveInstances(jobName),
    ]);
    const known = new Set([...servers, ...instances.map((instance) => instance.serverIp)]);
    if (known.has(serverIp)) return;
    assertIpAddress(serverIp);
    if (force) return;
    throw new ServerNotFoundError(
      serverIp,
      this.#reader.registry.namespace,
      [...known].sort(compareAscending),
      jobName,
    );
  }

  /** The live instances of the job on `serverIp` (all when undefined); clears commands of gone instances. */
  async #shutdownTargets(jobName: string, serverIp: string | undefined): Promise<ShutdownTarget[]> {
    const registry = this.#reader.registry;
    const paths = this.#reader.paths(jobName);
    const live = await this.#reader.liveInstances(jobName);
    const liveIds = new Set(live.map((instance) => instance.instanceId));
    for (const stale of await registry.getChildrenKeys(paths.full(SHUTDOWN_COMMAND_NODE))) {
      if (!liveIds.has(stale)) await registry.remove(shutdownCommandPath(jobName, stale));
    }
    return live
      .filter((instance) => serverIp === undefined || instance.serverIp === serverIp)
      .sort((a, b) => compareAscending(a.instanceId, b.instanceId))
      .map((instance) => ({ jobName, instanceId: instance.instanceId, serverIp: instance.serverIp }));
  }
}

/** An unknown server must at least be an address. */
function assertIpAddress(serverIp: string): void {
  if (isIP(serverIp) === 0) {
    throw new TypeError(
      `serverIp must be a server of the job or an IPv4/IPv6 address (e.g. 10.0.0.7), got ${describe(serverIp)}`,
    );
  }
}
