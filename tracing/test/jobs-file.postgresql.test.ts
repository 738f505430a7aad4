import { describeJobsFileTracing } from './jobs-file.behaviour.js';
import { postgresqlBackend } from './support/backends.js';

describeJobsFileTracing(postgresqlBackend());
