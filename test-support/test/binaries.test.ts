import { describe, expect, it } from 'vitest';
import {
  ETCD_REQUIREMENTS,
  MissingServerBinaryError,
  requireServerBinaries,
  type ServerRequirement,
  ZOOKEEPER_REQUIREMENTS,
} from '../src/index.js';

const absent = (what: string, debianPackage: string): ServerRequirement => ({
  what,
  debianPackage,
  externalServerVariable: 'SOME_SERVER',
  locate: () => undefined,
});

describe('requireServerBinaries', () => {
  it('returns the located path of every requirement on this machine', () => {
    const [java, jar] = requireServerBinaries('ZooKeeper', ZOOKEEPER_REQUIREMENTS);
    expect(java).toMatch(/java$/);
    expect(jar).toMatch(/zookeeper\.jar$/);
    expect(requireServerBinaries('etcd', ETCD_REQUIREMENTS)[0]).toMatch(/etcd$/);
  });

  it('names the Debian packages to install in one line, with no stack trace', () => {
    const previousCi = process.env.CI;
    process.env.CI = 'false';
    try {
      const error = (() => {
        try {
          requireServerBinaries('Example', [absent('a runtime', 'pkg-a'), absent('a jar', 'pkg-b')]);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(MissingServerBinaryError);
      const missing = error as MissingServerBinaryError;
      expect(missing.message).toBe(
        'Cannot start the Example test server: missing a runtime and a jar. ' +
          'Install with: apt-get install -y pkg-a pkg-b (or set SOME_SERVER to use a running server)',
      );
      expect(missing.message).not.toContain('\n');
      expect(missing.stack).toBe(`MissingServerBinaryError: ${missing.message}`);
      expect(missing.debianPackages).toEqual(['pkg-a', 'pkg-b']);
    } finally {
      if (previousCi === undefined) delete process.env.CI;
      else process.env.CI = previousCi;
    }
  });
});
