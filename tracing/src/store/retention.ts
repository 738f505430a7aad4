/**
 * Retention of the tracing tables (ElasticJob keeps rows forever): delete rows older than an age
 * and/or beyond a row count, in bounded batches so that no statement locks or scans the whole
 * table.
 *
 * @module
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { StoreBackend } from './backend.js';
import type { TracingDatabase } from './schema.js';

/** What to keep. At least one of `maxAgeMs` and `maxRows` must be given. */
export interface RetentionPolicy {
  /** Delete rows whose start time (executions) or creation time (status traces) is older, in ms. */
  readonly maxAgeMs?: number;
  /** Keep at most this many newest rows per table. */
  readonly maxRows?: number;
  /** Rows deleted per statement. @defaultValue 1000 */
  readonly batchSize?: number;
}

/** Rows deleted by one {@link applyRetention} call. */
export interface RetentionResult {
  readonly executionsDeleted: number;
  readonly statusTracesDeleted: number;
}

/** An invalid {@link RetentionPolicy}; the message names the field and the accepted values. */
export class RetentionPolicyError extends Error {
  override readonly name = 'RetentionPolicyError';
}

/**
 * Checks a policy.
 *
 * @param policy - the policy.
 * @throws {RetentionPolicyError} when no bound is given or a bound is not a positive integer.
 */
export function validateRetentionPolicy(policy: RetentionPolicy): void {
  for (const field of ['maxAgeMs', 'maxRows', 'batchSize'] as const) {
    const value = policy[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new RetentionPolicyError(`retention.${field} must be a positive integer, got ${String(value)}`);
    }
  }
  if (policy.maxAgeMs === undefined && policy.maxRows === undefined) {
    throw new RetentionPolicyError('retention needs maxAgeMs and/or maxRows (positive integers)');
  }
}

type TableName = keyof TracingDatabase;
const TIME_COLUMN = { JOB_EXECUTION_LOG: 'start_time', JOB_STATUS_TRACE_LOG: 'creation_time' } as const;

/**
 * Applies `policy` to both tables.
 *
 * @param db - the database.
 * @param backend - its backend.
 * @param policy - the bounds.
 * @param nowMs - the current time, epoch ms.
 * @throws {RetentionPolicyError} for an invalid policy; the database error when a delete fails.
 */
export async function applyRetention(
  db: Kysely<TracingDatabase>,
  backend: StoreBackend,
  policy: RetentionPolicy,
  nowMs: number,
): Promise<RetentionResult> {
  validateRetentionPolicy(policy);
  const executionsDeleted = await retainTable(db, backend, 'JOB_EXECUTION_LOG', policy, nowMs);
  const statusTracesDeleted = await retainTable(db, backend, 'JOB_STATUS_TRACE_LOG', policy, nowMs);
  return { executionsDeleted, statusTracesDeleted };
}

async function retainTable(
  db: Kysely<TracingDatabase>,
  backend: StoreBackend,
  table: TableName,
  policy: RetentionPolicy,
  nowMs: number,
): Promise<number> {
  const column = TIME_COLUMN[table];
  let deleted = 0;
  if (policy.maxAgeMs !== undefined) {
    const cutoff = backend.encodeTime(nowMs - policy.maxAgeMs);
    deleted += await deleteInBatches(
      db,
      table,
      policy.batchSize ?? 1000,
      sql<boolean>`${sql.ref(column)} < ${cutoff}`,
    );
  }
  if (policy.maxRows !== undefined) {
    // The newest row beyond the bound: it and everything older goes.
    const boundary = await db
      .selectFrom(table)
      .select([sql<Date | string>`${sql.ref(column)}`.as('t'), 'id'])
      .orderBy(sql.ref(column), 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .offset(policy.maxRows)
      .executeTakeFirst();
    if (boundary !== undefined) {
      const ref = sql.ref(column);
      const t = boundary.t;
      deleted += await deleteInBatches(
        db,
        table,
        policy.batchSize ?? 1000,
        sql<boolean>`(${ref} < ${t} or (${ref} = ${t} and id <= ${boundary.id}))`,
      );
    }
  }
  return deleted;
}

async function deleteInBatches(
  db: Kysely<TracingDatabase>,
  table: TableName,
  batchSize: number,
  condition: RawBuilder<boolean>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const victims = db.selectFrom(table).select('id').where(condition).limit(batchSize);
    const result = await db.deleteFrom(table).where('id', 'in', victims).executeTakeFirst();
    const count = Number(result.numDeletedRows);
    total += count;
    if (count < batchSize) return total;
    // Let writers and the event loop in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
