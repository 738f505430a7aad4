/**
 * Errors of the lifecycle (operation) API: {@link JobNotFoundError} and {@link ServerNotFoundError}.
 *
 * @module
 */

/** How many known names an error message lists before it only gives their count. */
const MAX_LISTED_NAMES = 10;

function listNames(kind: string, names: readonly string[]): string {
  if (names.length === 0) return `no ${kind} are registered`;
  if (names.length <= MAX_LISTED_NAMES) return `known ${kind}: ${names.join(', ')}`;
  return `${names.length} ${kind} are registered (e.g. ${names.slice(0, MAX_LISTED_NAMES).join(', ')}, ...)`;
}

/**
 * The job an operation names is not registered in the namespace: `/{jobName}/config` does not exist
 * (for `removeJobConfiguration` and the dump: `/{jobName}` does not exist). ElasticJob's lifecycle
 * API returns `null` or does nothing in that case; here it is an error so that a typo in a CLI
 * argument never looks like success.
 *
 * @example
 * ```ts
 * try {
 *   await apis.jobOperateAPI.trigger('ordres');
 * } catch (error) {
 *   if (error instanceof JobNotFoundError) console.log(error.knownJobNames); // ['orders', 'reports']
 * }
 * ```
 */
export class JobNotFoundError extends Error {
  /** The job that was asked for. */
  readonly jobName: string;
  /** The namespace that was searched. */
  readonly namespace: string;
  /** Names of the jobs that do exist in the namespace (sorted ascending). */
  readonly knownJobNames: readonly string[];

  /**
   * @param jobName - the missing job.
   * @param namespace - the registry namespace searched.
   * @param knownJobNames - the jobs that exist; listed in the message when there are at most 10.
   * @param options - `cause`, e.g. the registry's `NO_NODE` error after a concurrent removal.
   */
  constructor(
    jobName: string,
    namespace: string,
    knownJobNames: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `Job '${jobName}' not found in namespace '${namespace}'; ${listNames('jobs', knownJobNames)}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'JobNotFoundError';
    this.jobName = jobName;
    this.namespace = namespace;
    this.knownJobNames = Object.freeze([...knownJobNames]);
  }
}

/**
 * A server-wide operation (`disable`/`enable`/`shutdown`/`remove` with a server IP and no job name)
 * names an IP that no job of the namespace knows: no job has `servers/{ip}` or a live instance on it.
 * ElasticJob silently does nothing in that case.
 */
export class ServerNotFoundError extends Error {
  /** The IP that was asked for. */
  readonly serverIp: string;
  /** The namespace that was searched. */
  readonly namespace: string;
  /** Every server IP known to some job of the namespace (sorted ascending). */
  readonly knownServerIps: readonly string[];

  /**
   * @param serverIp - the unknown IP.
   * @param namespace - the registry namespace searched.
   * @param knownServerIps - the IPs that exist; listed in the message when there are at most 10.
   */
  constructor(serverIp: string, namespace: string, knownServerIps: readonly string[]) {
    super(
      `Server '${serverIp}' not found in any job of namespace '${namespace}'; ${listNames('servers', knownServerIps)}`,
    );
    this.name = 'ServerNotFoundError';
    this.serverIp = serverIp;
    this.namespace = namespace;
    this.knownServerIps = Object.freeze([...knownServerIps]);
  }
}
