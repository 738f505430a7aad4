export * from './job-error-handler.js';
