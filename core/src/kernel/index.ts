export type { JobBootstrapOptions } from './job-bootstrap-options.js';
export { MAX_FAILOVER_RESERVED_SLOTS } from './job-bootstrap-options.js';
export { JobNodePath, type ServerStatus, type ShardingItemNode } from './job-node-path.js';
export { JobSetupError } from './job-setup-error.js';
export { type ScheduledTimer, TimerService } from './timer-service.js';
export { MAX_ADMISSION_LEAD_MS } from './trigger/admission-lead.js';
