/**
 * Job instances: the {@link JobInstance} model, the default `{ip}@-@{pid}` id, local IP detection
 * and the `instances/{jobInstanceId}` YAML.
 *
 * @example
 * ```ts
 * import { createJobInstance, defaultInstanceId, detectLocalIp, toJobInstanceYaml } from '@elasticjob-ts/core';
 *
 * const ip = detectLocalIp();
 * const instance = createJobInstance(defaultInstanceId(ip), ip);
 * toJobInstanceYaml(instance); // 'jobInstanceId: 10.0.0.1@-@4711\nserverIp: 10.0.0.1\n'
 * ```
 *
 * @module
 */
export * from './job-instance.js';
export * from './local-ip.js';
