/**
 * {@link HistoryStore}: one event tracing database (SQLite or PostgreSQL, chosen by URL), its
 * schema migrations, batched writes, queries and retention.
 *
 * @module
 */
import { type JobEvent, type Logger, silentLogger } from '@elasticjob-ts/core';
import type { Kysely } from 'kysely';
import { HistoryQueries } from '../query/history-queries.js';
import { type ConnectBackendOptions, connectBackend, type StoreBackend } from './backend.js';
import { toEventRows } from './event-rows.js';
import { parseHistoryUrl } from './history-url.js';
import {
  appliedMigrations,
  HistoryMigrationError,
  isHistorySchemaCurrent,
  type MigrationName,
  migrateHistorySchema,
} from './migrations.js';
import { applyRetention, type RetentionPolicy, type RetentionResult } from './retention.js';
import type { TracingDatabase } from './schema.js';

/** Options of {@link openHistoryStore}. */
export interface HistoryStoreOptions extends Omit<ConnectBackendOptions, 'logger'> {
  /**
   * The database: `sqlite:<file>` (e.g. `sqlite:./history.db`, `sqlite::memory:`) or
   * `postgres://user:password@host:port/database`.
   */
  readonly url: string;
  /** Where connection problems are reported. @defaultValue silentLogger */
  readonly logger?: Logger;
  /**
   * `eager` (default) migrates the schema before {@link openHistoryStore} resolves (and rejects
   * when the database is unreachable); `lazy` migrates before the first write or query instead,
   * so an application starts even while its history database is down.
   */
  readonly migrate?: 'eager' | 'lazy';
}

/**
 * An open event tracing database. Writes are idempotent (an execution row is upserted by its
 * event id, a status row is inserted once), so a batch retried after a timeout that did commit
 * creates no duplicates.
 */
export class HistoryStore {
  /** Typed queries for consoles, the CLI and scripts. */
  readonly queries: HistoryQueries;
  #schema: Promise<void> | undefined;

  /**
   * Prefer {@link openHistoryStore}.
   *
   * @param db - the Kysely instance (owned: closed by {@link close}).
   * @param backend - the backend of `db`.
   */
  constructor(
    readonly db: Kysely<TracingDatabase>,
    readonly backend: StoreBackend,
  ) {
    this.queries = new HistoryQueries(db, backend, () => this.ensureSchema());
  }

  /**
   * Migrates the schema to the latest version once; a failed attempt is retried by the next call.
   * A schema already current is only read (one `SELECT` of the applied migrations), so a
   * read-only database role can query an up-to-date database.
   *
   * @throws {HistoryMigrationError} when the schema version cannot be read (database down, no
   *   rights) or a migration fails.
   */
  ensureSchema(): Promise<void> {
    this.#schema ??= this.#migrateUnlessCurrent().then(
      () => undefined,
      (error: unknown) => {
        this.#schema = undefined;
        throw error;
      },
    );
    return this.#schema;
  }

  /** Migrates only when a read shows the schema is not current (a reader needs no DDL rights). */
  async #migrateUnlessCurrent(): Promise<void> {
    const db = this.db as Kysely<unknown>;
    let current: boolean;
    try {
      current = await isHistorySchemaCurrent(db);
    } catch (error) {
      throw new HistoryMigrationError(
        `history database: cannot read its schema version: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!current) await migrateHistorySchema(db, this.backend);
  }

  /**
   * Migrates to `target` only (tests of upgrades from an older schema).
   *
   * @param target - the last migration to apply.
   */
  async migrateTo(target: MigrationName): Promise<string[]> {
    return migrateHistorySchema(this.db as Kysely<unknown>, this.backend, target);
  }

  /** The migrations applied so far, oldest first. */
  appliedMigrations(): Promise<string[]> {
    return appliedMigrations(this.db as Kysely<unknown>, this.backend);
  }

  /**
   * Writes a batch of events in one transaction: one multi-row upsert into `JOB_EXECUTION_LOG`
   * and one multi-row insert into `JOB_STATUS_TRACE_LOG` (ElasticJob does one SELECT and one write
   * per event). Resharding events are skipped.
   *
   * @param events - events in post order; at most a few thousand (bound parameters).
   * @throws the database error; nothing of the batch is written then.
   */
  async writeEvents(events: readonly JobEvent[]): Promise<void> {
    const rows = toEventRows(events, this.backend);
    if (rows.executions.length === 0 && rows.statusTraces.length === 0) return;
    await this.ensureSchema();
    await this.db.transaction().execute(async (tx) => {
      if (rows.executions.length > 0) {
        await tx
          .insertInto('JOB_EXECUTION_LOG')
          .values(rows.executions)
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet((eb) => ({
                complete_time: eb.ref('excluded.complete_time'),
                is_success: eb.ref('excluded.is_success'),
                failure_cause: eb.ref('excluded.failure_cause'),
              }))
              .where('excluded.complete_time', 'is not', null),
          )
          .execute();
      }
      if (rows.statusTraces.length > 0) {
        await tx
          .insertInto('JOB_STATUS_TRACE_LOG')
          .values(rows.statusTraces)
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
    });
  }

  /**
   * Deletes old rows (see {@link RetentionPolicy}) in bounded batches.
   *
   * @param policy - age and/or row bounds.
   * @param nowMs - the current time, epoch ms. @defaultValue Date.now()
   */
  async applyRetention(policy: RetentionPolicy, nowMs: number = Date.now()): Promise<RetentionResult> {
    await this.ensureSchema();
    return applyRetention(this.db, this.backend, policy, nowMs);
  }

  /** Closes the connection(s). Idempotent. */
  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * Opens the history database at `options.url` and (unless `migrate: 'lazy'`) migrates its schema.
 *
 * @param options - the URL, or options with the URL.
 * @returns the open store; close it with {@link HistoryStore.close}.
 * @throws {HistoryUrlError} for an unusable URL.
 * @throws {HistoryMigrationError} when the eager migration fails (the connection is closed then).
 * @example
 * ```ts
 * const store = await openHistoryStore('sqlite:./history.db');
 * const page = await store.queries.findExecutions({ jobName: 'orders', success: false });
 * await store.close();
 * ```
 */
export async function openHistoryStore(options: HistoryStoreOptions | string): Promise<HistoryStore> {
  const resolved = typeof options === 'string' ? { url: options } : options;
  const location = parseHistoryUrl(resolved.url);
  const { db, backend } = connectBackend(location, { ...resolved, logger: resolved.logger ?? silentLogger });
  const store = new HistoryStore(db, backend);
  if (resolved.migrate !== 'lazy') {
    try {
      await store.ensureSchema();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
