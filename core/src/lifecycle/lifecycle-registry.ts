/**
 * Registry reads shared by the lifecycle APIs: argument checks, the job list, live instances and
 * server states of a job. Internal: not exported from the package.
 *
 * @module
 * @internal
 */
import { JOB_NAME_PATTERN } from '../config/index.js';
import { JOB_INSTANCE_ID_DELIMITER, parseJobInstanceYaml } from '../instance/index.js';
import { JobNodePath } from '../kernel/job-node-path.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { JobNotFoundError } from './lifecycle-errors.js';

/**
 * Name of the node, under the job root, that holds explicit operator shutdown commands:
 * `/{jobName}/shutdown/{instanceId}` (see {@link JobOperateAPI.shutdown}).
 */
export const SHUTDOWN_COMMAND_NODE = 'shutdown';

/**
 * `/{jobName}/shutdown/{instanceId}`: the explicit, durable command asking one job instance to shut
 * the job down (see {@link JobOperateAPI.shutdown} for the protocol the kernel follows).
 *
 * @param jobName - the job.
 * @param instanceId - the target instance.
 * @returns the registry path, relative to the namespace.
 * @throws {TypeError} naming `jobName` or `instanceId` when it is not a valid path segment.
 */
export function shutdownCommandPath(jobName: string, instanceId: string): string {
  assertJobNameArgument(jobName);
  assertSegmentArgument(instanceId, 'instanceId');
  return `/${jobName}/${SHUTDOWN_COMMAND_NODE}/${instanceId}`;
}

/** @internal */
export function assertJobNameArgument(value: unknown, field = 'jobName'): asserts value is string {
  if (typeof value !== 'string' || !JOB_NAME_PATTERN.test(value) || value === '.' || value === '..') {
    throw new TypeError(
      `${field} must be a job name (letters, digits, '_', '-', '.'; not '.' or '..'), got ${describe(value)}`,
    );
  }
}

/** @internal */
export function assertSegmentArgument(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.includes('/') || value === '.' || value === '..') {
    throw new TypeError(
      `${field} must be a non-empty string without '/' (and not '.' or '..'), got ${describe(value)}`,
    );
  }
}

/** @internal */
export function assertItemArgument(value: unknown, field = 'item'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a sharding item: an integer >= 0, got ${describe(value)}`);
  }
}

/**
 * Checks the `(jobName?, serverIp?)` pair of the server operations: at least one given, each valid.
 * @internal
 */
export function assertTargetArguments(jobName: unknown, serverIp: unknown): void {
  if (jobName === undefined && serverIp === undefined) {
    throw new TypeError(
      'jobName or serverIp is required (at least one of them; both = that server of that job)',
    );
  }
  if (jobName !== undefined) assertJobNameArgument(jobName);
  if (serverIp !== undefined) assertSegmentArgument(serverIp, 'serverIp');
}

/** @internal */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  return typeof value;
}

/** A live job instance as the lifecycle API sees it. */
export interface LiveInstance {
  /** The instance id (`instances/{instanceId}`). */
  readonly instanceId: string;
  /** The instance's IP: from its YAML, else the part of the id before `@-@`. */
  readonly serverIp: string;
}

/**
 * The server IP of an instance id when its YAML is not available: ElasticJob's rule (the part before
 * `@-@`), or `undefined` for custom ids without the delimiter.
 * @internal
 */
export function serverIpOfInstanceId(instanceId: string): string | undefined {
  const index = instanceId.indexOf(JOB_INSTANCE_ID_DELIMITER);
  return index > 0 ? instanceId.slice(0, index) : undefined;
}

/**
 * Registry reads of the lifecycle APIs. Every read is direct (`getDirectly`, `getChildrenKeys`):
 * operations decide on the server's current state, never on a cache.
 * @internal
 */
export class LifecycleRegistry {
  constructor(readonly registry: CoordinatorRegistryCenter) {}

  paths(jobName: string): JobNodePath {
    return new JobNodePath(jobName);
  }

  /** Names of every job (namespace root children that have a `config` node), sorted ascending. */
  async listJobNames(): Promise<string[]> {
    const children = await this.registry.getChildrenKeys('/');
    const candidates = children.filter((name) => JOB_NAME_PATTERN.test(name));
    const flags = await Promise.all(candidates.map((name) => this.registry.isExisted(`/${name}/config`)));
    return candidates.filter((_, index) => flags[index]).sort(compareAscending);
  }

  /** @throws {JobNotFoundError} when `/{jobName}/config` does not exist. */
  async requireJob(jobName: string): Promise<JobNodePath> {
    assertJobNameArgument(jobName);
    const paths = this.paths(jobName);
    if (!(await this.registry.isExisted(paths.config))) throw await this.notFound(jobName);
    return paths;
  }

  /** @throws {JobNotFoundError} when `/{jobName}` does not exist. */
  async requireJobRoot(jobName: string): Promise<JobNodePath> {
    assertJobNameArgument(jobName);
    const paths = this.paths(jobName);
    if (!(await this.registry.isExisted(paths.root))) throw await this.notFound(jobName);
    return paths;
  }

  async notFound(jobName: string, cause?: unknown): Promise<JobNotFoundError> {
    return new JobNotFoundError(
      jobName,
      this.registry.namespace,
      await this.listJobNames(),
      cause === undefined ? undefined : { cause },
    );
  }

  /** Live instances of a job (one per `instances/{id}` node), in the registry's descending order. */
  async liveInstances(jobName: string): Promise<LiveInstance[]> {
    const paths = this.paths(jobName);
    const ids = await this.registry.getChildrenKeys(paths.instances);
    const values = await Promise.all(ids.map((id) => this.registry.getDirectly(paths.instance(id))));
    const result: LiveInstance[] = [];
    ids.forEach((instanceId, index) => {
      const value = values[index];
      if (value === undefined) return; // gone since the listing
      let serverIp: string | undefined;
      try {
        serverIp = parseJobInstanceYaml(value).serverIp;
      } catch {
        serverIp = serverIpOfInstanceId(instanceId); // not an instance YAML: ElasticJob's id rule
      }
      result.push({ instanceId, serverIp: serverIp ?? instanceId });
    });
    return result;
  }

  /** `servers/{ip}` values of a job, keyed by IP (values as stored: `ENABLED`, `DISABLED`, or other). */
  async serverStates(jobName: string): Promise<Map<string, string>> {
    const paths = this.paths(jobName);
    const ips = await this.registry.getChildrenKeys(paths.servers);
    const values = await Promise.all(ips.map((ip) => this.registry.getDirectly(paths.server(ip))));
    const result = new Map<string, string>();
    ips.forEach((ip, index) => {
      const value = values[index];
      if (value !== undefined) result.set(ip, value);
    });
    return result;
  }
}

/** Ascending UTF-16 code-unit order. @internal */
export function compareAscending(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
