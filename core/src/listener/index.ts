export * from './elastic-job-listener.js';
