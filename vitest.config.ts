import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// One vitest run over every package, so `npm test` prints one summary line.
//
// One test file more than there are cores, at most 8: most files spend their time waiting on real
// servers, session timeouts and fixed-length fault runs, not on the CPU. Measured on a 2-core
// machine (2026-12-07): with two files at a time the whole run used 644 s of CPU in 662 s, under
// one core of two; with three it took 632 s beside two CPU-bound busy loops, where two took 863 s.
// ELASTICJOB_TEST_WORKERS overrides it (1 runs the files one after another).
const requested = Number(process.env.ELASTICJOB_TEST_WORKERS ?? Math.min(availableParallelism() + 1, 8));

export default defineConfig({
  test: {
    maxWorkers: Number.isInteger(requested) && requested > 0 ? requested : 3,
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
