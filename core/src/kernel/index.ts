export { JobCache } from './job-cache.js';
export { JobNodePath, type ServerStatus, type ShardingItemNode } from './job-node-path.js';
export { type JobBootstrapOptions, JobScheduler, type JobSchedulerState } from './job-scheduler.js';
export { JobSetupError } from './job-setup-error.js';
export { getDefaultTimerService, type ScheduledTimer, TimerService } from './timer-service.js';
