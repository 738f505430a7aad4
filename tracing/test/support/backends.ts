/**
 * The two history backends the tests run against: a SQLite file in a temp directory, and a real
 * PostgreSQL server started by the harness (one fresh database per store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PostgresqlTestServer, startPostgresqlServer } from '@elasticjob-ts/test-support';
import pg from 'pg';

/** A backend under test. */
export interface BackendFixture {
  readonly name: 'sqlite' | 'postgresql';
  /** Starts what the backend needs (the PostgreSQL server). */
  setup(): Promise<void>;
  /** Stops it and removes files. */
  teardown(): Promise<void>;
  /** The URL of a new, empty database. */
  newDatabaseUrl(): Promise<string>;
  /** The PostgreSQL server (postgresql only). */
  readonly server?: PostgresqlTestServer | undefined;
}

/** SQLite files in a temp directory. */
export function sqliteBackend(): BackendFixture {
  let dir: string | undefined;
  let n = 0;
  return {
    name: 'sqlite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'elasticjob-history-'));
    },
    async teardown() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
    async newDatabaseUrl() {
      return `sqlite:${join(dir as string, `history-${n++}.db`)}`;
    },
  };
}

/** A PostgreSQL server; each store gets its own database. */
export function postgresqlBackend(): BackendFixture {
  let server: PostgresqlTestServer | undefined;
  let n = 0;
  return {
    name: 'postgresql',
    get server() {
      return server;
    },
    async setup() {
      server = await startPostgresqlServer();
    },
    async teardown() {
      await server?.stop();
    },
    async newDatabaseUrl() {
      const base = (server as PostgresqlTestServer).url;
      const name = `history_${process.pid}_${n++}`;
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return base.replace(/\/[^/]*$/, `/${name}`);
    },
  };
}
