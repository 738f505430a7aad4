import { describeHistoryStore } from './history-store.behaviour.js';
import { postgresqlBackend } from './support/backends.js';

describeHistoryStore(postgresqlBackend());
