import { describeHistoryStore } from './history-store.behaviour.js';
import { sqliteBackend } from './support/backends.js';

describeHistoryStore(sqliteBackend());
