import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Shared vitest settings: every `@elasticjob-ts/*` import resolves to the package's TypeScript
 * sources, so tests never run against a stale `dist/` and core's kernel tests can use the memory
 * registry without a workspace dependency cycle.
 */
export function packageTestConfig(name: string, overrides: { testTimeoutMs?: number } = {}) {
  return defineConfig({
    resolve: {
      alias: [
        { find: /^@elasticjob-ts\/([a-z-]+)$/, replacement: `${root}$1/src/index.ts` },
        { find: /^@elasticjob-ts\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}$1/src/$2/index.ts` },
      ],
    },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      testTimeout: overrides.testTimeoutMs ?? 20_000,
      hookTimeout: 60_000,
    },
  });
}
