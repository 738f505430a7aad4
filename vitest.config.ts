import { defineConfig } from 'vitest/config';

// One vitest run over every package, so `npm test` prints one summary line.
//
// Two test files at a time: most suites spend their time waiting on real servers and session
// timeouts, not on the CPU, so on a 2-core machine vitest's default (cores - 1 = 1 worker) runs
// them one after another. ELASTICJOB_TEST_WORKERS overrides it.
const workers = Number(process.env.ELASTICJOB_TEST_WORKERS ?? 2);

export default defineConfig({
  test: {
    maxWorkers: Number.isInteger(workers) && workers > 0 ? workers : 2,
    projects: [
      'core',
      'registry-memory',
      'test-support',
      'registry-conformance',
      'registry-zookeeper',
      'registry-etcd',
      'registry-redis',
      'examples',
      'simulation',
      'integration-tests',
      'tracing',
      'console',
    ],
  },
});
