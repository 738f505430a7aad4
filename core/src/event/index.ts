export * from './job-event.js';
