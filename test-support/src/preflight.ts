/**
 * `node test-support/dist/preflight.js`: run by `npm test` before vitest. Checks that every test
 * server's programs are installed (installing their Debian packages in CI as root) and, when one
 * is missing, prints one line naming the package to install and exits with status 1 — before any
 * test runs, so a missing binary never shows as a stack trace.
 *
 * @module
 */
import {
  ETCD_REQUIREMENTS,
  MissingServerBinaryError,
  requireServerBinaries,
  ZOOKEEPER_REQUIREMENTS,
} from './servers/binaries.js';

const servers = [
  { name: 'ZooKeeper', requirements: ZOOKEEPER_REQUIREMENTS, external: 'ZK_CONNECT' },
  { name: 'etcd', requirements: ETCD_REQUIREMENTS, external: 'ETCD_ENDPOINTS' },
];

let failed = false;
for (const server of servers) {
  if ((process.env[server.external] ?? '').trim() !== '') continue;
  try {
    requireServerBinaries(server.name, server.requirements);
  } catch (error) {
    if (!(error instanceof MissingServerBinaryError)) throw error;
    console.error(error.message);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
