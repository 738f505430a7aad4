/**
 * The shared `addWatch` of a connection's namespace watch: sent once per socket whatever the number
 * of subtrees that rely on it, its outcome given to every one of them, sent again after a failure
 * or once forgotten (a new socket). The wire side is `watch-modes.zookeeper.test.ts`.
 */
import { RegistryError } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import { type AddWatchCallback, NamespaceWatch } from '../src/namespace-watch.js';

/** A namespace watch whose `addWatch` requests are held until the test answers them. */
function heldWatch(root = '/ns'): { watch: NamespaceWatch; sent: AddWatchCallback[] } {
  const sent: AddWatchCallback[] = [];
  return { watch: new NamespaceWatch(root, (done) => sent.push(done)), sent };
}

/** Joins and records the outcome (`'ok'` or the error code) once it arrives. */
function join(watch: NamespaceWatch, outcomes: string[]): void {
  watch.join((error) => outcomes.push(error === undefined ? 'ok' : error.code));
}

describe('NamespaceWatch', () => {
  it('sends one addWatch for every subtree that joins before or after its answer', async () => {
    const { watch, sent } = heldWatch();
    const outcomes: string[] = [];
    join(watch, outcomes);
    join(watch, outcomes);
    expect(sent).toHaveLength(1);
    expect(outcomes).toEqual([]);
    sent[0]?.(undefined);
    expect(outcomes).toEqual(['ok', 'ok']);
    join(watch, outcomes);
    expect(outcomes).toHaveLength(2); // never synchronously: the caller's read is sent first
    await Promise.resolve();
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(sent).toHaveLength(1);
  });

  it('gives a failure to every waiter and sends again on the next join', () => {
    const { watch, sent } = heldWatch();
    const outcomes: string[] = [];
    join(watch, outcomes);
    join(watch, outcomes);
    sent[0]?.(new RegistryError('CONNECTION_LOSS', 'socket closed'));
    expect(outcomes).toEqual(['CONNECTION_LOSS', 'CONNECTION_LOSS']);
    join(watch, outcomes);
    expect(sent).toHaveLength(2);
    sent[1]?.(undefined);
    expect(outcomes.at(-1)).toBe('ok');
  });

  it('sends again once forgotten (a new socket), and an old answer does not count for the new one', () => {
    const { watch, sent } = heldWatch();
    const outcomes: string[] = [];
    join(watch, outcomes);
    watch.forget();
    join(watch, outcomes);
    expect(sent).toHaveLength(2);
    sent[0]?.(undefined); // the first socket's answer reaches its own waiter only
    expect(outcomes).toEqual(['ok']);
    join(watch, outcomes);
    expect(sent).toHaveLength(2); // joins the second attempt, still unanswered
    sent[1]?.(undefined);
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
  });

  it.each([
    ['/ns', '/ns', true],
    ['/ns', '/ns/job/sharding', true],
    ['/ns', '/nsx/job', false],
    ['/ns', '/other', false],
    ['/', '/any/path', true],
  ])('root %s covers %s: %s', (root, path, covered) => {
    expect(heldWatch(root).watch.covers(path)).toBe(covered);
  });
});
