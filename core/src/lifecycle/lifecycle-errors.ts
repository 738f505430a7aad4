/**
 * Errors of the lifecycle (operation) API: {@link JobNotFoundError}, {@link ServerNotFoundError} and
 * {@link JobConfigurationConflictError}.
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
 * A server operation names a server that is not known where it looks:
 *
 * - with a job name (`disable`/`enable`/`shutdown`/`remove` of one server of one job): the job has no
 *   `servers/{ip}` node and no live instance on that IP. ElasticJob writes the node anyway, so a typo
 *   disables nothing and leaves a stray `servers/{ip}` behind; here it is an error unless the
 *   operator forces a pre-disable (`{ force: true }`) of a server that has not joined yet;
 * - without a job name (the IP in every job): no job of the namespace has it. ElasticJob silently
 *   does nothing in that case.
 */
export class ServerNotFoundError extends Error {
  /** The IP that was asked for. */
  readonly serverIp: string;
  /** The namespace that was searched. */
  readonly namespace: string;
  /** The job searched, or `undefined` when every job of the namespace was. */
  readonly jobName: string | undefined;
  /** Every server IP known to the job (or to some job of the namespace), sorted ascending. */
  readonly knownServerIps: readonly string[];

  /**
   * @param serverIp - the unknown IP.
   * @param namespace - the registry namespace searched.
   * @param knownServerIps - the IPs that exist; listed in the message when there are at most 10.
   * @param jobName - the job searched; omit when every job was.
   */
  constructor(serverIp: string, namespace: string, knownServerIps: readonly string[], jobName?: string) {
    super(
      jobName === undefined
        ? `Server '${serverIp}' not found in any job of namespace '${namespace}'; ${listNames('servers', knownServerIps)}`
        : `Server '${serverIp}' is not a server of job '${jobName}' in namespace '${namespace}'; ${listNames('servers', knownServerIps)}`,
    );
    this.name = 'ServerNotFoundError';
    this.serverIp = serverIp;
    this.namespace = namespace;
    this.jobName = jobName;
    this.knownServerIps = Object.freeze([...knownServerIps]);
  }
}

/**
 * A conditional configuration write found another value stored than the one it was based on: the
 * configuration changed since it was read (an operator, a console or a starting instance with
 * `overwrite` wrote it). Nothing was written. Read the configuration again
 * ({@link JobConfigurationAPI.getStoredConfiguration}), re-apply the change, and retry with the new
 * version. (ElasticJob and its console write unconditionally: the last write wins silently.)
 */
export class JobConfigurationConflictError extends Error {
  /** The job. */
  readonly jobName: string;
  /** The version the write was conditional on. */
  readonly expectedVersion: string;
  /** The version stored now, or `undefined` when the configuration was removed meanwhile. */
  readonly actualVersion: string | undefined;

  /**
   * @param jobName - the job.
   * @param expectedVersion - the version the caller based its change on.
   * @param actualVersion - the version stored now.
   * @param options - `cause`: the registry's failed transaction, when the change raced the write.
   */
  constructor(
    jobName: string,
    expectedVersion: string,
    actualVersion: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `The configuration of job '${jobName}' changed since it was read (version ${expectedVersion}, ` +
        `now ${actualVersion ?? 'removed'}); nothing was written: read it again and re-apply the change`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'JobConfigurationConflictError';
    this.jobName = jobName;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}
