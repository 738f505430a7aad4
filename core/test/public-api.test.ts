/**
 * The public surface of `@elasticjob-ts/core` is deliberate: this test fails when an export is
 * added or removed without updating the checked-in report `core/public-api.txt`
 * (`node core/scripts/public-api.mjs > core/public-api.txt`).
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
// @ts-expect-error a plain ESM script without type declarations
import { listPublicApi } from '../scripts/public-api.mjs';

it('exports exactly the names listed in core/public-api.txt', { timeout: 120_000 }, () => {
  const expected = readFileSync(new URL('../public-api.txt', import.meta.url), 'utf8')
    .trim()
    .split('\n');
  expect(listPublicApi()).toEqual(expected);
});
