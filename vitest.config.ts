import { defineConfig } from 'vitest/config';

// One vitest run over every package, so `npm test` prints one summary line.
export default defineConfig({
  test: {
    projects: [
      'core',
      'registry-memory',
      'registry-conformance',
      'registry-zookeeper',
      'registry-etcd',
      'examples',
      'integration-tests',
      'tracing',
      'console',
    ],
  },
});
