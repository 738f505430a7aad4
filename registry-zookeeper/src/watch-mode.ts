/**
 * The choice of a client's subtree watch mode (see `ZookeeperWatchMode`): `'auto'` starts with
 * persistent recursive watches and falls back to one-shot watches, for the rest of the client's
 * life, when the server refuses `addWatch` as unimplemented (ZooKeeper 3.4/3.5 answer an unknown
 * opcode with `UNIMPLEMENTED`, -6, and then close the connection; the session survives).
 *
 * @module
 */
import { RegistryError } from '@elasticjob-ts/core/adapter';
import type { ZookeeperWatchMode } from './options.js';
import { ZK_UNIMPLEMENTED } from './persistent-watch-protocol.js';
import type { SubtreeWatchMode } from './subtree-watch.js';
import { zookeeperCodeOf } from './to-registry-error.js';

/** The mode a client tries first: `'one-shot'` when configured so, else `'persistent'`. */
export function initialWatchMode(configured: ZookeeperWatchMode): SubtreeWatchMode {
  return configured === 'one-shot' ? 'one-shot' : 'persistent';
}

/** Whether an error of `addWatch` (or of a watch's start) means the server lacks `addWatch`. */
export function isAddWatchRefusal(error: unknown): boolean {
  const cause = RegistryError.is(error) ? (error as { cause?: unknown }).cause : error;
  return zookeeperCodeOf(cause) === ZK_UNIMPLEMENTED;
}

/**
 * The mode to use after a persistent watch failed to start.
 *
 * @param configured - the client's `watchMode` option.
 * @param error - what the persistent watch's start threw.
 * @returns `'one-shot'` when `configured` is `'auto'` and the server refused `addWatch`.
 * @throws {RegistryError} `NOT_SUPPORTED` when `configured` is `'persistent'` and the server refused
 *   `addWatch`; otherwise `error` itself (not a refusal: no fallback).
 */
export function fallbackWatchMode(configured: ZookeeperWatchMode, error: unknown): 'one-shot' {
  if (!isAddWatchRefusal(error)) throw error;
  if (configured === 'auto') return 'one-shot';
  throw new RegistryError(
    'NOT_SUPPORTED',
    "The ZooKeeper server refused addWatch (persistent watches need ZooKeeper 3.6 or later); set the option 'watchMode' to 'auto' or 'one-shot'",
    { cause: error },
  );
}
