/**
 * What differs between the two backends behind one Kysely query layer: the Kysely dialect, how
 * times and booleans are stored, and the few SQL fragments that have no common spelling
 * (time buckets, durations, percentiles, case-insensitive search).
 *
 * @module
 */

import type { Logger } from '@elasticjob-ts/core';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, type RawBuilder, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { HistoryDatabaseLocation } from './history-url.js';
import { maskPassword } from './history-url.js';
import type { TracingDatabase } from './schema.js';

/** Granularity of {@link HistoryQueries.jobStatistics} buckets. */
export type StatisticsGranularity = 'hour' | 'day';

/** Backend-specific storage and SQL; one implementation per supported database. */
export interface StoreBackend {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** Column type of time columns in migrations. */
  readonly timeType: 'timestamptz' | 'text';
  /** Column type of boolean columns in migrations. */
  readonly booleanType: 'boolean' | 'integer';
  /** An epoch-ms time as stored. */
  encodeTime(epochMs: number): Date | string;
  /** A stored time as epoch ms. */
  decodeTime(value: Date | string): number;
  /** A boolean as stored. */
  encodeBoolean(value: boolean): boolean | number;
  /** The start of the `granularity` bucket (UTC) of time column `column`, in epoch ms. */
  bucketStartMs(column: string, granularity: StatisticsGranularity): RawBuilder<number>;
  /** `complete_time - start_time` in seconds (`null` while running). */
  durationSeconds(): RawBuilder<number | null>;
  /** The continuous `fraction` percentile (0..1) of `value` over the group. */
  percentile(value: RawBuilder<number | null>, fraction: number): RawBuilder<number | null>;
  /** `column` contains `text`, case-insensitively (`%`, `_` and `\` in `text` match literally). */
  containsText(column: string, text: string): RawBuilder<boolean>;
}

const sqliteBackend: StoreBackend = {
  kind: 'sqlite',
  timeType: 'text',
  booleanType: 'integer',
  encodeTime: (epochMs) => new Date(epochMs).toISOString(),
  decodeTime: (value) => (value instanceof Date ? value.getTime() : Date.parse(value)),
  encodeBoolean: (value) => (value ? 1 : 0),
  bucketStartMs: (column, granularity) =>
    sql<number>`((unixepoch(${sql.ref(column)}) / ${granularitySeconds(granularity)}) * ${granularitySeconds(granularity)} * 1000)`,
  durationSeconds: () =>
    sql<number | null>`(unixepoch(complete_time, 'subsec') - unixepoch(start_time, 'subsec'))`,
  percentile: (value, fraction) => sql<number | null>`percentile_cont(${value}, ${sql.lit(fraction)})`,
  containsText: (column, text) => sql<boolean>`${sql.ref(column)} like ${likePattern(text)} escape '\\'`,
};

const postgresBackend: StoreBackend = {
  kind: 'postgres',
  timeType: 'timestamptz',
  booleanType: 'boolean',
  encodeTime: (epochMs) => new Date(epochMs),
  decodeTime: (value) => (value instanceof Date ? value.getTime() : Date.parse(value)),
  encodeBoolean: (value) => value,
  bucketStartMs: (column, granularity) =>
    sql<number>`(extract(epoch from date_trunc(${granularity}, ${sql.ref(column)} at time zone 'UTC')) * 1000)::float8`,
  durationSeconds: () => sql<number | null>`extract(epoch from (complete_time - start_time))::float8`,
  percentile: (value, fraction) =>
    sql<number | null>`percentile_cont(${sql.lit(fraction)}) within group (order by ${value})`,
  containsText: (column, text) => sql<boolean>`${sql.ref(column)} ilike ${likePattern(text)} escape '\\'`,
};

function granularitySeconds(granularity: StatisticsGranularity): RawBuilder<number> {
  return sql.lit(granularity === 'hour' ? 3600 : 86_400);
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Options of {@link connectBackend}. */
export interface ConnectBackendOptions {
  /** Where pool errors are reported (an idle PostgreSQL connection dropped by the server). */
  readonly logger: Logger;
  /** PostgreSQL: connections in the pool. @defaultValue 4 */
  readonly maxConnections?: number;
  /** PostgreSQL: bound on opening a connection, in ms. @defaultValue 5000 */
  readonly connectTimeoutMs?: number;
  /** PostgreSQL: bound on one statement, in ms (a slow database fails the write, never hangs it). @defaultValue 30000 */
  readonly statementTimeoutMs?: number;
}

/** A connected Kysely instance with its backend. */
export interface ConnectedBackend {
  readonly db: Kysely<TracingDatabase>;
  readonly backend: StoreBackend;
}

/**
 * Opens the database at `location` (creates the SQLite file if needed; PostgreSQL connects lazily
 * through a pool that reconnects by itself).
 *
 * @param location - from `parseHistoryUrl`.
 * @param options - logger and PostgreSQL pool bounds.
 */
export function connectBackend(
  location: HistoryDatabaseLocation,
  options: ConnectBackendOptions,
): ConnectedBackend {
  if (location.backend === 'sqlite') {
    const database = new Database(location.filename);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    return {
      db: new Kysely<TracingDatabase>({ dialect: new SqliteDialect({ database }) }),
      backend: sqliteBackend,
    };
  }
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max: options.maxConnections ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener an idle client's error (server restart) would crash the process.
  pool.on('error', (error) => {
    options.logger.warn(
      { err: error, database: maskPassword(location.connectionString) },
      'history database connection lost; the pool reconnects on the next write',
    );
  });
  return {
    db: new Kysely<TracingDatabase>({ dialect: new PostgresDialect({ pool }) }),
    backend: postgresBackend,
  };
}
