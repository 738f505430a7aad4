import { describeJobTracing } from './job-tracing.behaviour.js';
import { sqliteBackend } from './support/backends.js';

describeJobTracing(sqliteBackend());
