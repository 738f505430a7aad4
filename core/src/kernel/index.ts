export type { JobBootstrapOptions } from './job-bootstrap-options.js';
export { JobCache } from './job-cache.js';
export { JobNodePath, type ServerStatus, type ShardingItemNode } from './job-node-path.js';
export { JobSetupError } from './job-setup-error.js';
export { getDefaultTimerService, type ScheduledTimer, TimerService } from './timer-service.js';
