/**
 * {@link ServerStatisticsAPI}: servers (hosts) across every job of a namespace.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { ServerNotFoundError } from './lifecycle-errors.js';
import { assertSegmentArgument, compareAscending, LifecycleRegistry } from './lifecycle-registry.js';

/** Summary of one server across the namespace's jobs (ElasticJob `ServerBriefInfo`). */
export interface ServerBriefInfo {
  /** The server IP. */
  readonly serverIp: string;
  /** Ids of the live instances on this IP, over all jobs, without duplicates, sorted ascending. */
  readonly instances: readonly string[];
  /** Jobs that have this server (a `servers/{ip}` node or a live instance on it), sorted ascending. */
  readonly jobNames: readonly string[];
  /** `instances.length`. */
  readonly instancesNum: number;
  /** `jobNames.length`. */
  readonly jobsNum: number;
  /** Jobs in which `servers/{ip}` is `DISABLED`. */
  readonly disabledJobsNum: number;
}

/**
 * Servers across every job of the namespace (ElasticJob's `ServerStatisticsAPI`).
 * A server is an IP that some job has as a `servers/{ip}` node or as a live instance's `serverIp`.
 *
 * @example
 * ```ts
 * const api = new ServerStatisticsAPI(registry);
 * for (const server of await api.getAllServersBriefInfo()) {
 *   console.log(server.serverIp, server.instancesNum, `${server.disabledJobsNum}/${server.jobsNum} disabled`);
 * }
 * ```
 */
export class ServerStatisticsAPI {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the jobs' namespace (not closed by this API). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * Number of distinct servers over all jobs.
   *
   * @throws {RegistryError} when the registry fails.
   */
  async getServersTotalCount(): Promise<number> {
    return (await this.getAllServersBriefInfo()).length;
  }

  /**
   * Every server, sorted by IP (ascending code-unit order).
   *
   * @throws {RegistryError} when the registry fails.
   */
  async getAllServersBriefInfo(): Promise<ServerBriefInfo[]> {
    const byIp = new Map<string, { instances: Set<string>; jobs: Set<string>; disabled: Set<string> }>();
    const entry = (ip: string) => {
      let found = byIp.get(ip);
      if (found === undefined) {
        found = { instances: new Set(), jobs: new Set(), disabled: new Set() };
        byIp.set(ip, found);
      }
      return found;
    };
    for (const jobName of await this.#reader.listJobNames()) {
      const [servers, instances] = await Promise.all([
        this.#reader.serverStates(jobName),
        this.#reader.liveInstances(jobName),
      ]);
      for (const [ip, status] of servers) {
        const server = entry(ip);
        server.jobs.add(jobName);
        if (status === 'DISABLED') server.disabled.add(jobName);
      }
      for (const instance of instances) {
        const server = entry(instance.serverIp);
        server.jobs.add(jobName);
        server.instances.add(instance.instanceId);
      }
    }
    return [...byIp.keys()].sort(compareAscending).map((serverIp) => {
      const server = byIp.get(serverIp)!;
      const instances = [...server.instances].sort(compareAscending);
      const jobNames = [...server.jobs].sort(compareAscending);
      return {
        serverIp,
        instances,
        jobNames,
        instancesNum: instances.length,
        jobsNum: jobNames.length,
        disabledJobsNum: server.disabled.size,
      };
    });
  }

  /**
   * One server.
   *
   * @param serverIp - the server.
   * @throws {TypeError} naming `serverIp` when it is not a non-empty string without `/`.
   * @throws {ServerNotFoundError} when no job has that server.
   * @throws {RegistryError} when the registry fails.
   */
  async getServerBriefInfo(serverIp: string): Promise<ServerBriefInfo> {
    assertSegmentArgument(serverIp, 'serverIp');
    const all = await this.getAllServersBriefInfo();
    const found = all.find((server) => server.serverIp === serverIp);
    if (found === undefined) {
      throw new ServerNotFoundError(
        serverIp,
        this.#reader.registry.namespace,
        all.map((server) => server.serverIp),
      );
    }
    return found;
  }
}
