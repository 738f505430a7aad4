/**
 * Dumps of a job's registry subtree, for diagnosis: {@link JobDumpService} (text), the opt-in TCP
 * dump server {@link startDumpServer} and its client {@link dumpJob}, compatible with ElasticJob's
 * snapshot protocol (`echo "dump@orders" | nc 127.0.0.1 9888`; reference §5.21).
 *
 * @example
 * ```ts
 * import { JobDumpService, startDumpServer } from '@elasticjob-ts/core';
 *
 * console.log(await new JobDumpService(registry).dump('orders'));
 * const server = await startDumpServer({ registry, port: 9888 }); // 127.0.0.1 only by default
 * await server.close();
 * ```
 *
 * @module
 */
export {
  DUMP_COMMAND_PREFIX,
  type DumpJobOptions,
  type DumpServer,
  type DumpServerOptions,
  dumpJob,
  startDumpServer,
} from './dump-server.js';
export { type JobDumpOptions, JobDumpService } from './job-dump-service.js';
export { createIpMasker } from './mask-ips.js';
