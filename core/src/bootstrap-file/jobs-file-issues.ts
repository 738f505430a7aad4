/**
 * Helpers shared by the jobs-file validators: zod issues as jobs-file issues, paths, copies.
 *
 * @module
 * @internal
 */
import { isAbsolute } from 'node:path';
import type { z } from 'zod';
import { describeValue } from '../config/job-configuration-error.js';
import { formatIssuePath, type JobsFileIssue } from './jobs-file-error.js';

/** Turns a zod issue into jobs-file issues with messages naming the value and what is accepted. */
export function zodIssues(
  issue: z.core.$ZodIssue,
  base: readonly string[],
  acceptedKeys: readonly string[],
): JobsFileIssue[] {
  const path = formatIssuePath([...base, ...(issue.path as (string | number)[])]);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: path === '' ? key : `${path}.${key}`,
        message: `unknown key; accepted: ${acceptedKeys.join(', ')}`,
      }));
    case 'invalid_type':
      return [
        {
          path,
          message:
            issue.input === undefined
              ? `is required: expected ${expectedType(issue.expected)}`
              : `expected ${expectedType(issue.expected)}, got ${describeValue(issue.input)}`,
        },
      ];
    case 'invalid_value':
      return [
        {
          path,
          message: `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}, got ${describeValue(issue.input)}`,
        },
      ];
    case 'invalid_union':
      return [{ path, message: `expected a string or a list of strings, got ${describeValue(issue.input)}` }];
    case 'too_small':
    case 'too_big': {
      const bound =
        issue.code === 'too_small' ? `>= ${String(issue.minimum)}` : `<= ${String(issue.maximum)}`;
      const what = issue.origin === 'string' ? 'length' : issue.origin === 'array' ? 'size' : 'value';
      const nonEmptyMinimum = issue.code === 'too_small' && Number(issue.minimum) === 1;
      const expected =
        issue.origin === 'string' && nonEmptyMinimum
          ? 'a non-empty string'
          : issue.origin === 'array' && nonEmptyMinimum
            ? 'a non-empty list'
            : `${what} ${bound}`;
      return [{ path, message: `expected ${expected}, got ${describeValue(issue.input)}` }];
    }
    default:
      return [{ path, message: `${issue.message}, got ${describeValue(issue.input)}` }];
  }
}

export function expectedType(expected: string): string {
  const names: Record<string, string> = {
    record: 'a map',
    object: 'a map',
    array: 'a list',
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

export function hasIssueUnder(issues: readonly JobsFileIssue[], path: string): boolean {
  return issues.some((issue) => issue.path === path || issue.path.startsWith(`${path}.`));
}

export function isFilePath(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
}

/** Copies plain objects and arrays (so env substitution never mutates the caller's object). */
export function cloneData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneData);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(copy, key, {
        value: cloneData(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }
  return value;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
