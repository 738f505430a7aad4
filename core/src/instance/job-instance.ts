/**
 * The job instance: one running copy of a job, and its registry form
 * (`/{namespace}/{jobName}/instances/{jobInstanceId}`).
 *
 * @module
 */

import { isMap, isScalar, parseDocument, stringify } from 'yaml';

/**
 * One running copy of a job (ElasticJob `JobInstance` in `kernel/internal/sharding`). Two instances
 * are the same instance when their `jobInstanceId`s are equal.
 */
export interface JobInstance {
  /** Unique id in the cluster, `{ip}@-@{pid}` by default (see {@link defaultInstanceId}); no `/`. */
  readonly jobInstanceId: string;
  /** The IP address of the host it runs on (used by `servers/{ip}` and the disable/enable operations). */
  readonly serverIp: string;
  /** Free-form labels (ElasticJob reads and writes the field but Lite never sets it). */
  readonly labels?: string;
}

/** The separator between IP and process id in a default instance id (ElasticJob `JobInstance.DELIMITER`). */
export const JOB_INSTANCE_ID_DELIMITER = '@-@';

/**
 * Checks that `id` can be a job instance id: a non-empty string without `/` (it is a registry path
 * segment) other than `.` and `..`.
 *
 * @param id - the candidate id.
 * @param what - how to name the value in the error message.
 * @throws {TypeError} naming the value when it is not acceptable.
 */
export function assertJobInstanceId(id: unknown, what = 'jobInstanceId'): asserts id is string {
  if (typeof id !== 'string' || id === '' || id.includes('/') || id === '.' || id === '..') {
    throw new TypeError(
      `${what} must be a non-empty string without '/' (and not '.' or '..'), got ${JSON.stringify(id) ?? String(id)}`,
    );
  }
}

/**
 * The default instance id, `{ip}@-@{pid}` — ElasticJob's format (`IpUtils.getIp()` + `@-@` + the
 * JVM's pid), so that consoles and Java peers read it alike. Set an explicit id instead when several
 * instances of a job run in one process or containers share an IP and pid.
 *
 * @param ip - the server IP, e.g. from {@link detectLocalIp}.
 * @param pid - the process id; defaults to `process.pid`.
 * @returns e.g. `10.0.0.1@-@4711`.
 * @throws {TypeError} when `ip` is empty or contains `/`, or `pid` is not a non-negative integer.
 */
export function defaultInstanceId(ip: string, pid: number = process.pid): string {
  assertJobInstanceId(ip, 'ip');
  if (!Number.isSafeInteger(pid) || pid < 0) {
    throw new TypeError(`pid must be a non-negative integer, got ${String(pid)}`);
  }
  return `${ip}${JOB_INSTANCE_ID_DELIMITER}${pid}`;
}

/**
 * Builds a {@link JobInstance} after validating it.
 *
 * @param jobInstanceId - the id (no `/`, non-empty).
 * @param serverIp - the host's IP; defaults to the part of `jobInstanceId` before `@-@` when it has
 *   one, else to the whole id.
 * @param labels - optional labels.
 * @throws {TypeError} for an invalid id, an empty `serverIp` or a non-string `labels`.
 */
export function createJobInstance(jobInstanceId: string, serverIp?: string, labels?: string): JobInstance {
  assertJobInstanceId(jobInstanceId);
  const ip = serverIp ?? jobInstanceId.split(JOB_INSTANCE_ID_DELIMITER, 1)[0]!;
  if (typeof ip !== 'string' || ip === '') {
    throw new TypeError(`serverIp must be a non-empty string, got ${JSON.stringify(ip) ?? String(ip)}`);
  }
  if (labels !== undefined && typeof labels !== 'string') {
    throw new TypeError(
      `labels must be a string when given, got ${JSON.stringify(labels) ?? String(labels)}`,
    );
  }
  return Object.freeze(
    labels === undefined ? { jobInstanceId, serverIp: ip } : { jobInstanceId, serverIp: ip, labels },
  );
}

/**
 * Writes an instance as ElasticJob stores it in `instances/{jobInstanceId}`: YAML with keys in
 * alphabetical order, `labels` omitted when absent (SnakeYAML drops nulls).
 *
 * @param instance - the instance; validated first.
 * @returns e.g. `jobInstanceId: 10.0.0.1@-@4711\nserverIp: 10.0.0.1\n`.
 * @throws {TypeError} for an invalid instance (see {@link createJobInstance}).
 */
export function toJobInstanceYaml(instance: JobInstance): string {
  const valid = createJobInstance(instance.jobInstanceId, instance.serverIp, instance.labels);
  const ordered: Record<string, string> = { jobInstanceId: valid.jobInstanceId };
  if (valid.labels !== undefined) ordered.labels = valid.labels;
  ordered.serverIp = valid.serverIp;
  return stringify(ordered, { schema: 'yaml-1.1', singleQuote: true, lineWidth: 0 });
}

/**
 * Reads the YAML of an `instances/{jobInstanceId}` node written by ElasticJob or
 * {@link toJobInstanceYaml}. Unknown keys are ignored; scalar values are read as their text.
 *
 * @param text - the node's value.
 * @returns the instance.
 * @throws {TypeError} naming the problem and quoting the text, when the YAML is malformed, not a
 *   map, or lacks a valid `jobInstanceId` or `serverIp`; the YAML parser's error is the `cause`.
 */
export function parseJobInstanceYaml(text: string): JobInstance {
  const known = PARSED_INSTANCES.get(text);
  if (known !== undefined) return known;
  const parsed = parseJobInstanceYamlUncached(text);
  if (PARSED_INSTANCES.size >= PARSED_INSTANCES_MAX) PARSED_INSTANCES.clear();
  PARSED_INSTANCES.set(text, parsed);
  return parsed;
}

/**
 * Instances parsed so far, by their YAML: the kernel parses every instance node whenever it asks
 * which instances are available (each resharding pass and each check of an assignment), and the
 * same few texts come back. Instances are frozen, so one object can be shared. Emptied when full.
 */
const PARSED_INSTANCES = new Map<string, JobInstance>();
const PARSED_INSTANCES_MAX = 4096;

function parseJobInstanceYamlUncached(text: string): JobInstance {
  const quoted = JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text);
  const document = parseDocument(text, { schema: 'yaml-1.1', uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new TypeError(`job instance YAML is malformed: ${quoted}`, { cause: document.errors[0] });
  }
  const root = document.contents;
  if (!isMap(root)) throw new TypeError(`job instance YAML must be a map, got ${quoted}`);
  const fields: Record<string, string> = {};
  for (const pair of root.items) {
    if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.value === null) continue;
    const value = pair.value.value;
    fields[String(pair.key.value)] = typeof value === 'string' ? value : (pair.value.source ?? String(value));
  }
  const { jobInstanceId, serverIp, labels } = fields;
  try {
    assertJobInstanceId(jobInstanceId);
    if (serverIp === undefined || serverIp === '') throw new TypeError('serverIp must be a non-empty string');
    return createJobInstance(jobInstanceId, serverIp, labels);
  } catch (error) {
    throw new TypeError(`invalid job instance YAML ${quoted}: ${(error as Error).message}`, { cause: error });
  }
}
