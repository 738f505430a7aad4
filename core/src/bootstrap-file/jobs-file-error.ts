/**
 * The error thrown for an invalid jobs file.
 *
 * @module
 */

/** One problem found in a jobs file. */
export interface JobsFileIssue {
  /**
   * Path of the offending value in the file, dot-separated, list indexes in brackets:
   * `jobs.orders.shardingTotalCount`, `registry.digest`, `jobs.backup.props.script.command.line`,
   * `jobs.orders.jobListenerTypes[1]`. `''` means the file as a whole (unreadable, malformed YAML).
   */
  readonly path: string;
  /** What is wrong: the bad value and what is accepted. */
  readonly message: string;
}

/**
 * An invalid jobs file (see {@link loadJobsFile}): unreadable or malformed, a bad field, an unset
 * environment variable, a handler module that cannot be loaded. Every problem found is listed in
 * {@link JobsFileError.issues}, each with the path of the field at fault. When this error is
 * thrown nothing has been started: no registry connection, no job.
 *
 * Branch on `issues[].path`, never on `message` (messages are for humans).
 */
export class JobsFileError extends Error {
  /** The file concerned (absolute path), or `undefined` for a configuration object. */
  readonly file: string | undefined;
  /** Every problem found, in file order; never empty. */
  readonly issues: readonly JobsFileIssue[];

  /**
   * @param file - the file concerned, or `undefined` for an in-memory configuration.
   * @param issues - at least one issue.
   * @throws {TypeError} when `issues` is empty.
   */
  constructor(file: string | undefined, issues: readonly JobsFileIssue[], options?: { cause?: unknown }) {
    if (issues.length === 0) throw new TypeError('JobsFileError needs at least one issue');
    const subject = file === undefined ? 'Invalid jobs configuration' : `Invalid jobs file '${file}'`;
    const lines = issues.map((issue) =>
      issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`,
    );
    super(
      lines.length === 1
        ? `${subject}: ${lines[0]}`
        : `${subject}: ${lines.length} problems:\n  - ${lines.join('\n  - ')}`,
      options,
    );
    this.name = 'JobsFileError';
    this.file = file;
    this.issues = issues;
  }
}

/**
 * Joins path segments the way {@link JobsFileIssue.path} shows them.
 * @internal
 */
export function formatIssuePath(segments: readonly PropertyKey[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else path += path === '' ? String(segment) : `.${String(segment)}`;
  }
  return path;
}
