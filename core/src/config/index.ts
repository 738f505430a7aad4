export * from './job-configuration.js';
