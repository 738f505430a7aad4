/**
 * `@elasticjob-ts/core/internal`: kernel building blocks that are not part of the supported API
 * (no compatibility promise between minor versions). Registry adapters, the simulator and the
 * repository's own tests may use them; applications should not.
 *
 * @module
 */

export type { TracingPackage } from '../bootstrap-file/tracing-package.js';
export { buildTaskId, shardingContextOf } from '../job/sharding-context.js';
export { JobCache } from '../kernel/job-cache.js';
export { getDefaultTimerService } from '../kernel/timer-service.js';
