/**
 * Servers and instances (ElasticJob `ServerService`, `InstanceService`): `servers/{ip}` holds the
 * operator's `ENABLED`/`DISABLED` state, `instances/{id}` is this instance's ephemeral node.
 *
 * @module
 */
import { type JobInstance, parseJobInstanceYaml, toJobInstanceYaml } from '../../instance/index.js';
import type { Logger } from '../../logging/index.js';
import { RegistryError } from '../../registry/registry-error.js';
import { sortChildrenDescending } from '../../registry/registry-path.js';
import type { JobContext } from '../job-context.js';
import type { ServerStatus } from '../job-node-path.js';

/** Registration of this instance and membership queries over the job cache. */
export class ServerService {
  constructor(private readonly context: JobContext) {}

  /**
   * Writes `servers/{ip}` only when it does not exist yet: an operator's `DISABLED` (or `ENABLED`)
   * wins over the local `disabled` default (ElasticJob rewrites it, #537).
   *
   * @param disabled - the local default for a server seen for the first time.
   */
  async persistServerOnline(disabled: boolean): Promise<void> {
    const { registry, paths, instance } = this.context;
    const path = paths.server(instance.serverIp);
    const status: ServerStatus = disabled ? 'DISABLED' : 'ENABLED';
    if (await registry.isExisted(path)) {
      const current = await registry.getDirectly(path);
      if (current === 'ENABLED' || current === 'DISABLED') return;
      await registry.persist(path, status);
      return;
    }
    try {
      await registry.executeInTransaction([
        { type: 'check', key: paths.root },
        ...(await this.#createOps(path, status)),
      ]);
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      if (!(await registry.isExisted(path))) await registry.persist(path, status);
    }
  }

  async #createOps(path: string, status: ServerStatus) {
    const { registry, paths } = this.context;
    const ops: Array<{ type: 'create'; key: string; value?: string }> = [];
    if (!(await registry.isExisted(paths.servers)))
      ops.push({ type: 'create', key: paths.servers, value: '' });
    ops.push({ type: 'create', key: path, value: status });
    return ops;
  }

  /** Creates (or re-creates) this instance's ephemeral `instances/{id}` node. */
  async persistInstanceOnline(): Promise<void> {
    const { registry, paths, instance } = this.context;
    await registry.persistEphemeral(paths.instance(instance.jobInstanceId), toJobInstanceYaml(instance));
  }

  /** Deletes this instance's node. */
  async removeInstance(): Promise<void> {
    const { registry, paths, instance } = this.context;
    await registry.remove(paths.instance(instance.jobInstanceId));
  }

  /**
   * Withdraws this instance's node after a failed start or at shutdown (with `release`, e.g. the
   * leadership, done in the same attempt), so that no leader assigns items to a job that does not
   * run here. The node may exist even when its creation seemed to fail (the answer was lost with
   * the connection), and a removal sent while partitioned is lost. Tried at once, and while the
   * connection is away tried again when it is back with the same session (`RECONNECTED`); a `LOST`
   * session took the ephemeral nodes with it, and so does a client closed meanwhile (`NOT_STARTED`,
   * `SESSION_EXPIRED`: nothing is retried then). Failures are logged, never thrown.
   *
   * @returns once the first attempt has ended (a retry may follow in the background).
   */
  async withdrawInstance(release?: () => Promise<void>): Promise<void> {
    const { registry, logger } = this.context;
    let done = false;
    const attempt = async (): Promise<void> => {
      const results = await Promise.allSettled([release?.(), this.removeInstance()]);
      const failure = results.find((result) => result.status === 'rejected');
      if (failure === undefined) {
        finish();
        return;
      }
      if (sessionGone(failure.reason)) {
        // No retry can come: the node is an ephemeral of a session that ended or is being closed.
        finish();
        logger.info(
          { code: (failure.reason as RegistryError).code },
          'instance node not withdrawn: it ends with the registry session',
        );
        return;
      }
      const message =
        'instance node not withdrawn yet: withdrawn when the connection is back in this session, else it ends with the session';
      if (failure.reason instanceof RegistryError) logger.info({ code: failure.reason.code }, message);
      else logger.warn({ err: failure.reason }, message);
    };
    const finish = () => {
      done = true;
      stop();
    };
    const stop = registry.addConnectionStateListener((state) => {
      if (done) return;
      if (state === 'LOST') finish();
      else if (state === 'RECONNECTED') void attempt();
    });
    await attempt();
  }

  /** Whether `servers/{ip}` is `ENABLED` in the cache. */
  isServerEnabled(ip: string): boolean {
    return this.context.cache.get(this.context.paths.server(ip)) === 'ENABLED';
  }

  /** Whether this instance's server is enabled and its instance node is present. */
  isLocalInstanceAvailable(): boolean {
    const { cache, paths, instance } = this.context;
    return this.isServerEnabled(instance.serverIp) && cache.has(paths.instance(instance.jobInstanceId));
  }

  /**
   * Whether `instances/{instanceId}` is present in the cache (one of {@link liveInstanceIds},
   * without listing and sorting them all).
   *
   * @param instanceId - a job instance id.
   */
  isLive(instanceId: string): boolean {
    return this.context.cache.has(this.context.paths.instance(instanceId));
  }

  /** Ids of every instance node present, in the registry's descending order. */
  liveInstanceIds(): string[] {
    return sortChildrenDescending(this.context.cache.children(this.context.paths.instances));
  }

  /**
   * Instances eligible for items: present, parsable, and on an `ENABLED` server, in the registry's
   * descending id order (ElasticJob `InstanceService#getAvailableJobInstances`).
   */
  availableInstances(): JobInstance[] {
    const { cache, paths, logger } = this.context;
    const result: JobInstance[] = [];
    for (const id of this.liveInstanceIds()) {
      const parsed = parseInstanceNode(id, cache.get(paths.instance(id)), logger);
      if (parsed !== undefined && this.isServerEnabled(parsed.serverIp)) result.push(parsed);
    }
    return result;
  }

  /** Server IPs that have a `servers/{ip}` node. */
  serverIps(): string[] {
    return this.context.cache.children(this.context.paths.servers);
  }
}

/**
 * The job instance an `instances/{id}` node holds, or `undefined` when the node is absent, empty
 * (a Java ElasticJob peer writes none) or unparsable (logged at warn and left out).
 *
 * @param id - the job instance id (the node's name), for the log.
 * @param yaml - the node's value.
 */
export function parseInstanceNode(
  id: string,
  yaml: string | undefined,
  logger: Pick<Logger, 'warn'>,
): JobInstance | undefined {
  if (yaml === undefined || yaml === '') return undefined;
  try {
    return parseJobInstanceYaml(yaml);
  } catch (error) {
    logger.warn({ err: error, instanceId: id }, 'ignoring an unparsable instance node');
    return undefined;
  }
}

/**
 * Whether a registry call failed because its session is over: the client was closed (`NOT_STARTED`)
 * or the session expired. The session's ephemeral nodes are gone, or go when the server ends it.
 */
function sessionGone(error: unknown): boolean {
  return error instanceof RegistryError && (error.code === 'NOT_STARTED' || error.code === 'SESSION_EXPIRED');
}
