/**
 * A jobs file with `tracing:` or `monitoring:` where the optional tracing package is not installed:
 * loading it lists the problem with the `npm install` line, and `startJobs` given such a loaded
 * file throws the same before connecting the registry or starting a job.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { describe, expect, it, vi } from 'vitest';
import { TRACING_PACKAGE } from '../src/bootstrap-file/tracing-package.js';
import { JobsFileError, loadJobsConfig, startJobs } from '../src/index.js';

vi.mock(import('../src/bootstrap-file/tracing-package.js'), async (importOriginal) => ({
  ...(await importOriginal()),
  loadTracingPackage: () =>
    Promise.reject(
      Object.assign(new Error("Cannot find package '@elasticjob-ts/tracing' imported from core"), {
        code: 'ERR_MODULE_NOT_FOUND',
      }),
    ),
}));

const INSTALL_HINT = `npm install ${TRACING_PACKAGE}`;

describe('tracing and monitoring without the tracing package', () => {
  it('lists the section with the install line when the file is loaded', async () => {
    const error = await loadJobsConfig({
      registry: { type: 'memory' },
      jobs: { a: { handler: { execute() {} }, shardingTotalCount: 1 } },
      tracing: { url: 'sqlite::memory:' },
      monitoring: { port: 0 },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobsFileError);
    expect((error as JobsFileError).issues.map((issue) => issue.path)).toEqual(['tracing']);
    expect((error as JobsFileError).message).toContain(INSTALL_HINT);
  });

  it('starts nothing when startJobs is given a loaded file that asks for monitoring', async () => {
    const server = new MemoryRegistryServer();
    const loaded = await loadJobsConfig(
      {
        registry: { type: 'memory', namespace: 'missing-tracing' },
        jobs: { a: { handler: { execute() {} }, cron: '* * * * * ?', shardingTotalCount: 1 } },
      },
      { registryOverrides: { server } },
    );
    const error = await startJobs({ ...loaded, monitoring: { port: 0 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobsFileError);
    expect((error as JobsFileError).issues).toEqual([
      { path: 'monitoring', message: expect.stringContaining(INSTALL_HINT) },
    ]);
    const observer = new MemoryRegistryCenter({ server, namespace: 'missing-tracing' });
    await observer.start();
    try {
      expect(await observer.getChildrenKeys('/')).toEqual([]);
    } finally {
      await observer.close();
    }
  });
});
