import { describeJobTracing } from './job-tracing.behaviour.js';
import { postgresqlBackend } from './support/backends.js';

describeJobTracing(postgresqlBackend());
