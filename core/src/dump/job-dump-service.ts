/**
 * {@link JobDumpService}: the text dump of a job's registry subtree.
 *
 * @module
 */
import { assertJobNameArgument, LifecycleRegistry } from '../lifecycle/lifecycle-registry.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { createIpMasker } from './mask-ips.js';

/** Options of {@link JobDumpService.dump}. */
export interface JobDumpOptions {
  /**
   * Replace every IPv4 address by `ip1`, `ip2`, ... (consistently within the dump), as ElasticJob's
   * dump always does. The dump server always masks.
   * @defaultValue true
   */
  readonly maskIps?: boolean;
}

/**
 * Dumps a job's registry subtree for diagnosis, in ElasticJob's format (`SnapshotService`,
 * reference §5.21): one line per node under `/{jobName}` (the root itself excluded), depth first in
 * pre-order, children in the registry's order (descending, like `getChildrenKeys`):
 *
 * ```text
 * /orders/sharding/0/instance | ip1@-@4711
 * ```
 *
 * i.e. `{path} | {value}` with the path relative to the namespace. When the client's possibly cached
 * read (`get`) disagrees with the server (`getDirectly`), the line is
 * `{path} | {serverValue} | {path} | {cachedValue}` (`null` for a node missing from the cache), as
 * ElasticJob adds the CuratorCache's view. Multi-line values (the YAML config) span several lines.
 * Every line ends with `\n`. IPv4 addresses are masked unless `maskIps: false`.
 *
 * @example
 * ```ts
 * const text = await new JobDumpService(registry).dump('orders');
 * ```
 */
export class JobDumpService {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the job's namespace (not closed by the service). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * The dump of one job as text (see the class description for the format).
   *
   * @param jobName - the job; only `/{jobName}` must exist (a job without `config` can be dumped).
   * @param options - masking.
   * @returns the lines, each ending with `\n`; `''` when the job root has no children.
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when `/{jobName}` does not exist.
   * @throws {RegistryError} when the registry fails.
   */
  async dump(jobName: string, options: JobDumpOptions = {}): Promise<string> {
    const lines = await this.dumpLines(jobName, options);
    return lines.map((line) => `${line}\n`).join('');
  }

  /**
   * The dump of one job as lines (without line ends), one per node; see {@link dump}.
   *
   * @throws as {@link dump}.
   */
  async dumpLines(jobName: string, options: JobDumpOptions = {}): Promise<string[]> {
    assertJobNameArgument(jobName);
    const paths = await this.#reader.requireJobRoot(jobName);
    const lines: string[] = [];
    await this.#walk(paths.root, lines);
    if (options.maskIps === false) return lines;
    const mask = createIpMasker();
    return lines.map(mask);
  }

  async #walk(path: string, lines: string[]): Promise<void> {
    const registry = this.#reader.registry;
    const children = await registry.getChildrenKeys(path);
    const entries = await Promise.all(
      children.map(async (child) => {
        const childPath = `${path}/${child}`;
        const [direct, cached] = await Promise.all([
          registry.getDirectly(childPath),
          registry.get(childPath),
        ]);
        return { childPath, direct, cached };
      }),
    );
    for (const { childPath, direct, cached } of entries) {
      const value = direct ?? '';
      lines.push(
        cached === direct || direct === undefined
          ? `${childPath} | ${value}`
          : `${childPath} | ${value} | ${childPath} | ${cached ?? 'null'}`,
      );
      await this.#walk(childPath, lines);
    }
  }
}
