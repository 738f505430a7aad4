/**
 * `@elasticjob-ts/test-support` (private): what every test suite of the repository needs to run
 * against real servers — ZooKeeper and etcd started on free loopback ports in temporary
 * directories, the TCP fault proxy that cuts, blackholes or pauses a client's connection, and
 * process helpers. See the README for the server sources (Debian packages or external servers).
 *
 * @module
 */

export * from './fault-proxy.js';
export * from './servers/index.js';
