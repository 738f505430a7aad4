/**
 * Opening a history store reads the schema version first: a reader with only SELECT rights (a
 * read-only database role for `elasticjob history` or a console) queries an up-to-date database,
 * and a database that cannot be read is reported as such, not as a failed migration.
 */
import { findFreePort, type PostgresqlTestServer, startPostgresqlServer } from '@elasticjob-ts/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryMigrationError, openHistoryStore } from '../src/index.js';

describe('history store with a read-only PostgreSQL role', { timeout: 60_000 }, () => {
  let server: PostgresqlTestServer;
  let ownerUrl: string;
  let readerUrl: string;

  async function admin(url: string, statements: readonly string[]): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    server = await startPostgresqlServer();
    const name = `history_reader_${process.pid}`;
    await admin(server.url, [`create database ${name}`, "create role history_reader login password 'r'"]);
    ownerUrl = server.url.replace(/\/[^/]*$/, `/${name}`);
    const port = new URL(server.url).port;
    readerUrl = `postgres://history_reader:r@127.0.0.1:${port}/${name}`;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('queries an up-to-date schema without migrating, and is refused writes it has no right to', async () => {
    const owner = await openHistoryStore({ url: ownerUrl }); // creates the schema
    await owner.close();
    await admin(ownerUrl, [
      'grant usage on schema public to history_reader',
      'grant select on all tables in schema public to history_reader',
    ]);

    const reader = await openHistoryStore({ url: readerUrl });
    try {
      const page = await reader.queries.findExecutions({ jobName: 'orders' });
      expect(page.items).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('reports a database it cannot reach as unreadable, naming the cause, not as a failed migration', async () => {
    const port = await findFreePort();
    const error = await openHistoryStore({
      url: `postgres://nobody@127.0.0.1:${port}/none`,
      connectTimeoutMs: 2_000,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HistoryMigrationError);
    expect((error as Error).message).toMatch(
      /^history database: cannot read its schema version: .*ECONNREFUSED/,
    );
  });
});
