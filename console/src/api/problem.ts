/**
 * Errors as RFC 9457 problem details (`application/problem+json`), each naming the offending field,
 * and the mapping from core's errors to them.
 *
 * @module
 */

import {
  JobConfigurationConflictError,
  JobConfigurationError,
  JobNotFoundError,
  RegistryError,
  ServerNotFoundError,
} from '@elasticjob-ts/core';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HistoryInputError } from '../history/history-source.js';

/** One problem with one field. */
export interface FieldIssue {
  /** Where: `path.job`, `query.from`, `body.shardingTotalCount`, `header.If-Match`, ... */
  readonly field: string;
  readonly message: string;
}

/** A problem details document. */
export interface Problem {
  /** A stable identifier of the kind of problem (`urn:elasticjob-console:<kind>`). */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The first offending field, when the problem concerns input. */
  readonly field?: string;
  /** Every offending field. */
  readonly errors?: readonly FieldIssue[];
  /** Extra members (e.g. `knownJobNames`, `currentVersion`). */
  readonly [extension: string]: unknown;
}

/** The OpenAPI schema of every error response. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:elasticjob-console:job-not-found' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional().openapi({ description: 'The first offending field, e.g. `path.job`.' }),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem', { description: 'RFC 9457 problem details; `field` names the offending input.' });

/** An error the API turns into a problem response as is. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = 'ProblemError';
  }
}

/** Builds a problem. */
export function problem(
  status: number,
  kind: string,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem {
  return { type: `urn:elasticjob-console:${kind}`, title, status, detail, ...extra };
}

/** A 400 naming fields. */
export function invalidInput(errors: readonly FieldIssue[]): Problem {
  const first = errors[0] ?? { field: '', message: 'invalid request' };
  return problem(400, 'invalid-input', 'Invalid input', `${first.field}: ${first.message}`, {
    field: first.field,
    errors,
  });
}

/** Sends a problem response. */
export function sendProblem(c: Context, value: Problem): Response {
  return c.body(JSON.stringify(value), value.status as ContentfulStatusCode, {
    'Content-Type': 'application/problem+json',
  });
}

/** The first word of a lifecycle `TypeError` message is the argument it names (`item must be ...`). */
function argumentOf(message: string): string {
  return /^([A-Za-z]+) /.exec(message)?.[1] ?? '';
}

const ARGUMENT_FIELDS: Readonly<Record<string, string>> = {
  jobName: 'path.job',
  item: 'path.item',
  serverIp: 'path.ip',
};

/**
 * Maps an error thrown while serving a request to a problem. Registry errors become 503 (the
 * message names the code and path, never credentials); anything unknown is a 500 whose detail
 * hides internals.
 */
export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof HistoryInputError)
    return invalidInput([{ field: error.field, message: error.message }]);
  if (error instanceof JobNotFoundError) {
    return problem(404, 'job-not-found', 'Job not found', error.message, {
      field: 'path.job',
      errors: [{ field: 'path.job', message: error.message }],
      knownJobNames: error.knownJobNames.slice(0, 50),
    });
  }
  if (error instanceof ServerNotFoundError) {
    return problem(404, 'server-not-found', 'Server not found', error.message, {
      field: 'path.ip',
      errors: [{ field: 'path.ip', message: error.message }],
      knownServerIps: error.knownServerIps.slice(0, 50),
    });
  }
  if (error instanceof JobConfigurationConflictError) {
    return problem(412, 'version-conflict', 'Configuration changed concurrently', error.message, {
      field: 'header.If-Match',
      errors: [{ field: 'header.If-Match', message: error.message }],
      currentVersion: error.actualVersion ?? null,
    });
  }
  if (error instanceof JobConfigurationError) {
    const errors = error.issues.map((issue) => ({
      field: issue.field === '' ? 'body' : `body.${issue.field}`,
      message: issue.message,
    }));
    return problem(422, 'invalid-configuration', 'Invalid job configuration', error.message, {
      field: errors[0]?.field ?? 'body',
      errors,
    });
  }
  if (error instanceof TypeError && /must be|required/.test(error.message)) {
    const field = ARGUMENT_FIELDS[argumentOf(error.message)] ?? 'request';
    return invalidInput([{ field, message: error.message }]);
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own input errors, e.g. a body that is not JSON.
    return problem(error.status, 'invalid-request', 'Invalid request', error.message, {
      field: 'body',
      errors: [{ field: 'body', message: error.message }],
    });
  }
  if (error instanceof RegistryError) {
    return problem(
      503,
      'registry-unavailable',
      'Registry error',
      `The registry failed (${error.code}${error.path === undefined ? '' : ` at '${error.path}'`}); try again`,
      { registryErrorCode: error.code },
    );
  }
  return problem(500, 'internal', 'Internal error', 'The console failed to serve the request; see its log');
}
