import { describeJobsFileTracing } from './jobs-file.behaviour.js';
import { sqliteBackend } from './support/backends.js';

describeJobsFileTracing(sqliteBackend());
