/**
 * Small helpers for route definitions: JSON bodies and the problem responses.
 *
 * @module
 */
import type { z } from '@hono/zod-openapi';
import { ProblemSchema } from './problem.js';

const PROBLEM_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Invalid input; `field` names it.',
  401: 'Not signed in, or an invalid API token.',
  403: 'Role not allowed, console read-only, or CSRF/origin check failed.',
  404: 'Unknown job, server, registry, or history not configured.',
  412: 'The configuration changed since the version in If-Match was read.',
  422: 'The configuration is invalid; `field` names the first offending field, `errors` every one.',
  428: 'If-Match is required.',
  503: 'The registry or the history database failed.',
};

/** Problem responses for the given statuses. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

/** A JSON response of `schema`. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Security requirement of every protected route: a session cookie or a Bearer API token. */
export const SECURED: Record<string, string[]>[] = [{ session: [] }, { apiToken: [] }];
