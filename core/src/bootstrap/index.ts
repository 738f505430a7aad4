export * from './schedule-job-bootstrap.js';
