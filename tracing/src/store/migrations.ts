/**
 * Versioned schema migrations of the tracing tables, run by Kysely's `Migrator` (which records
 * applied versions in `kysely_migration` and takes a lock so concurrent instances migrate once).
 *
 * - `0001_elasticjob_tables`: ElasticJob's two tables and columns (`IF NOT EXISTS`, so a database
 *   that already holds ElasticJob's tables is adopted as it is).
 * - `0002_query_indexes`: the indexes the history queries and retention need (ElasticJob has none
 *   on job name or time).
 *
 * Migrations are append-only: a released one is never edited.
 *
 * @module
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { StoreBackend } from './backend.js';

/** The migration names, oldest first; the last one is the current schema version. */
export const MIGRATION_NAMES = ['0001_elasticjob_tables', '0002_query_indexes'] as const;

/** A migration name. */
export type MigrationName = (typeof MIGRATION_NAMES)[number];

function elasticJobTables(backend: StoreBackend): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('JOB_EXECUTION_LOG')
        .ifNotExists()
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('job_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('task_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('hostname', 'varchar(255)', (c) => c.notNull())
        .addColumn('ip', 'varchar(50)', (c) => c.notNull())
        .addColumn('sharding_item', 'integer', (c) => c.notNull())
        .addColumn('execution_source', 'varchar(20)', (c) => c.notNull())
        .addColumn('failure_cause', 'text')
        .addColumn('is_success', backend.booleanType, (c) => c.notNull())
        .addColumn('start_time', backend.timeType, (c) => c.notNull())
        .addColumn('complete_time', backend.timeType)
        .execute();
      await db.schema
        .createTable('JOB_STATUS_TRACE_LOG')
        .ifNotExists()
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('job_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('original_task_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('task_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('slave_id', 'varchar(50)', (c) => c.notNull())
        .addColumn('source', 'varchar(50)', (c) => c.notNull())
        .addColumn('execution_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('sharding_item', 'varchar(255)', (c) => c.notNull())
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('creation_time', backend.timeType, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('JOB_STATUS_TRACE_LOG').ifExists().execute();
      await db.schema.dropTable('JOB_EXECUTION_LOG').ifExists().execute();
    },
  };
}

const INDEXES = [
  // Executions of a job, newest first (the console's and CLI's main query) and per-job statistics.
  ['idx_job_execution_log_job_time', 'JOB_EXECUTION_LOG', ['job_name', 'start_time', 'id']],
  // Executions across jobs by time; retention by age.
  ['idx_job_execution_log_time', 'JOB_EXECUTION_LOG', ['start_time', 'id']],
  // Executions of one instance.
  ['idx_job_execution_log_ip_time', 'JOB_EXECUTION_LOG', ['ip', 'start_time']],
  // A task's status trace.
  ['idx_job_status_trace_log_task', 'JOB_STATUS_TRACE_LOG', ['task_id', 'creation_time']],
  // Status traces of a job by time.
  ['idx_job_status_trace_log_job_time', 'JOB_STATUS_TRACE_LOG', ['job_name', 'creation_time']],
  // Retention by age.
  ['idx_job_status_trace_log_time', 'JOB_STATUS_TRACE_LOG', ['creation_time', 'id']],
] as const;

const queryIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const [name, table, columns] of INDEXES) {
      await db.schema
        .createIndex(name)
        .ifNotExists()
        .on(table)
        .columns([...columns])
        .execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const [name] of INDEXES) await db.schema.dropIndex(name).ifExists().execute();
  },
};

/** The migrations in code (no files to ship or locate at run time). */
class TracingMigrationProvider implements MigrationProvider {
  constructor(private readonly backend: StoreBackend) {}

  async getMigrations(): Promise<Record<MigrationName, Migration>> {
    return {
      '0001_elasticjob_tables': elasticJobTables(this.backend),
      '0002_query_indexes': queryIndexes,
    };
  }
}

/** A migration run that failed; `cause` is the database error. */
export class HistoryMigrationError extends Error {
  override readonly name = 'HistoryMigrationError';
}

/**
 * Migrates the schema to `target` (default: the latest version).
 *
 * @param db - the database.
 * @param backend - its backend (column types).
 * @param target - the migration to stop at (inclusive); for tests of upgrades from older schemas.
 * @returns the names of the migrations applied by this call.
 * @throws {HistoryMigrationError} naming the failed migration, with the database error as `cause`.
 */
export async function migrateHistorySchema(
  db: Kysely<unknown>,
  backend: StoreBackend,
  target?: MigrationName,
): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new TracingMigrationProvider(backend) });
  const { error, results = [] } =
    target === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(target);
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new HistoryMigrationError(`history schema migration '${failed}' failed`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Whether every migration of this version is recorded as applied, read with one `SELECT` (no
 * DDL, no lock), so that a reader with only `SELECT` rights (a read-only database role for the
 * CLI or a console) uses an up-to-date schema without migrating. `false` when the migration table
 * is absent or lacks a migration.
 *
 * @param db - the database.
 * @returns whether the schema is current.
 * @throws the database error when it cannot be read for another reason (unreachable, no rights).
 */
export async function isHistorySchemaCurrent(db: Kysely<unknown>): Promise<boolean> {
  let applied: string[];
  try {
    const rows = await (db as Kysely<{ kysely_migration: { name: string } }>)
      .selectFrom('kysely_migration')
      .select('name')
      .execute();
    applied = rows.map((row) => row.name);
  } catch (error) {
    if (isMissingTable(error)) return false;
    throw error;
  }
  return MIGRATION_NAMES.every((name) => applied.includes(name));
}

/** SQLite's "no such table" or PostgreSQL's undefined_table (42P01). */
function isMissingTable(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '42P01' || (typeof message === 'string' && /no such table/.test(message));
}

/**
 * The names of the migrations applied to the database so far, oldest first.
 *
 * @param db - the database.
 * @param backend - its backend.
 */
export async function appliedMigrations(db: Kysely<unknown>, backend: StoreBackend): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new TracingMigrationProvider(backend) });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
