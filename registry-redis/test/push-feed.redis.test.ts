/**
 * The pushed change feed against a real server: what a watch costs in requests, and that the
 * stream fills every push that did not arrive (a lost message, a subscriber connection dropped
 * while scripts ran, a subscriber the server disconnected for falling behind, a message that was
 * never published), in commit order, each change once.
 */
import { EventRecorder } from '@elasticjob-ts/registry-conformance';
import { describe, expect, it } from 'vitest';
import { RedisRegistryCenter } from '../src/index.js';
import { PERSIST } from '../src/lua.js';
import { CHANGE_FEED_MAX_LENGTH } from '../src/options.js';
import { useRedisServer } from './support/redis-fixture.js';

/** Long enough that no heartbeat (every timeout/3) falls inside a counted window. */
const QUIET_SESSION_TIMEOUT_MS = 60_000;
/** Heartbeat every second: the lag check of the feed runs at each one. */
const SHORT_SESSION_TIMEOUT_MS = 3_000;

const redis = useRedisServer('push');

async function client(ns: string, sessionTimeoutMs: number): Promise<RedisRegistryCenter> {
  const created = redis.track(
    new RedisRegistryCenter({ type: 'redis', url: redis.server.url, namespace: ns, sessionTimeoutMs }),
  );
  await created.start();
  return created;
}

/**
 * A fresh namespace with two clients of a quiet session: `writer`, and a watcher of `root` whose
 * events `recorder` collects.
 */
async function watchedNamespace(root: string): Promise<{
  ns: string;
  writer: RedisRegistryCenter;
  recorder: EventRecorder;
}> {
  const ns = redis.namespace();
  const writer = await client(ns, QUIET_SESSION_TIMEOUT_MS);
  const watcher = await client(ns, QUIET_SESSION_TIMEOUT_MS);
  const recorder = new EventRecorder();
  await watcher.watch(root, recorder.listener);
  return { ns, writer, recorder };
}

/** Calls per command from `INFO commandstats`. */
async function commandCalls(): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.admin.info('commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match !== null) calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

/**
 * How many more calls `after` has than `before`, per command; `script` sums `EVALSHA` and `EVAL`
 * (ioredis sends `EVAL` when the server does not know a script yet).
 */
function delta(
  before: Map<string, number>,
  after: Map<string, number>,
  commands: string[],
): Record<string, number> {
  const calls = (command: string) => (after.get(command) ?? 0) - (before.get(command) ?? 0);
  return Object.fromEntries(
    commands.map((command) => [
      command,
      command === 'script' ? calls('evalsha') + calls('eval') : calls(command),
    ]),
  );
}

/**
 * `persist(path, value)` by the registry's own script with its push removed: the change commits and
 * is in the stream, but no message is published, as if the message had been lost.
 */
async function persistUnpushed(ns: string, path: string, value: string): Promise<void> {
  const unpushed = PERSIST.lua.replace("redis.call('SPUBLISH', P .. 'f', cjson.encode(pushed))", '');
  expect(unpushed).not.toBe(PERSIST.lua);
  await redis.admin.eval(unpushed, 1, `elasticjob:{${ns}}:`, CHANGE_FEED_MAX_LENGTH, path, value);
}

const FEED_COMMANDS = ['script', 'xread', 'xrange', 'ssubscribe', 'subscribe'];

describe('redis pushed change feed', () => {
  it('a write watched by another client costs one request (its script call); delivery costs none', async () => {
    const { writer, recorder } = await watchedNamespace('/c');
    const before = await commandCalls();
    for (let index = 0; index < 10; index++) {
      await writer.persist(`/c/n${index}`, `v${index}`);
      await recorder.waitForEvent({ type: 'ADDED', key: `/c/n${index}`, value: `v${index}` });
    }
    const after = await commandCalls();
    expect(delta(before, after, FEED_COMMANDS)).toEqual({
      script: 10,
      xread: 0,
      xrange: 0,
      ssubscribe: 0,
      subscribe: 0,
    });
    expect(recorder.anomalies()).toEqual([]);
  });

  it('a lost message is read from the stream before the next one is delivered, in commit order', async () => {
    const { ns, writer, recorder } = await watchedNamespace('/g');
    const before = await commandCalls();
    await persistUnpushed(ns, '/g/lost', 'l');
    await writer.persist('/g/pushed', 'p');
    await recorder.waitForEvent({ type: 'ADDED', key: '/g/pushed', value: 'p' });
    expect(recorder.events).toEqual([
      { type: 'ADDED', key: '/g', value: '' },
      { type: 'ADDED', key: '/g/lost', value: 'l' },
      { type: 'ADDED', key: '/g/pushed', value: 'p' },
    ]);
    const after = await commandCalls();
    // Each client's feed read the missing range once (the writer's too: it follows the feed
    // whether or not it watches); the script calls are the two writes, no snapshot (a
    // re-synchronisation would read one).
    expect(delta(before, after, ['xrange', 'script'])).toEqual({ xrange: 2, script: 2 });
  });

  it('changes committed while the subscriber connection was down arrive once, in order, after it is back', async () => {
    const { writer, recorder } = await watchedNamespace('/r');
    await writer.persist('/r/before', 'b');
    await recorder.waitForEvent({ type: 'ADDED', key: '/r/before', value: 'b' });
    const before = await commandCalls();
    // Both clients' subscribed connections are dropped; the writes below are sent before either
    // reconnects (the first reconnect attempt waits for its backoff).
    expect(Number(await redis.admin.client('KILL', 'TYPE', 'pubsub'))).toBe(2);
    await Promise.all([0, 1, 2, 3, 4].map((index) => writer.persist(`/r/while${index}`, `${index}`)));
    await writer.update('/r/before', 'changed');
    await recorder.waitForEvent({ type: 'UPDATED', key: '/r/before', value: 'changed' });
    await writer.persist('/r/after', 'a');
    await recorder.waitForEvent({ type: 'ADDED', key: '/r/after', value: 'a' });
    expect(recorder.events.slice(2)).toEqual([
      ...[0, 1, 2, 3, 4].map((index) => ({ type: 'ADDED', key: `/r/while${index}`, value: `${index}` })),
      { type: 'UPDATED', key: '/r/before', value: 'changed' },
      { type: 'ADDED', key: '/r/after', value: 'a' },
    ]);
    expect(recorder.anomalies()).toEqual([]);
    const after = await commandCalls();
    // Each client subscribed again and read what it missed from the stream.
    expect(delta(before, after, ['ssubscribe'])).toEqual({ ssubscribe: 2 });
    expect(delta(before, after, ['xrange']).xrange).toBeGreaterThanOrEqual(1);
  });

  it('a subscriber the server disconnects for falling behind (output buffer limit) still sees every change once, in order', async () => {
    const large = 'x'.repeat(32 * 1024);
    const { writer, recorder } = await watchedNamespace('/s');
    const [, limits] = (await redis.admin.config('GET', 'client-output-buffer-limit')) as [string, string];
    // A message larger than a client's fixed reply buffer (16 kB) goes to its output list, which
    // may now hold 1 kB: the server closes the subscribed connection instead of delivering it.
    await redis.admin.config('SET', 'client-output-buffer-limit', 'pubsub 1024 0 0');
    try {
      for (let index = 0; index < 3; index++) await writer.persist(`/s/n${index}`, `${index}${large}`);
      await writer.persist('/s/small', 'fits');
      await recorder.waitForEvent({ type: 'ADDED', key: '/s/small', value: 'fits' }, { timeoutMs: 15_000 });
    } finally {
      await redis.admin.config('SET', 'client-output-buffer-limit', limits);
    }
    expect(recorder.events).toEqual([
      { type: 'ADDED', key: '/s', value: '' },
      ...[0, 1, 2].map((index) => ({ type: 'ADDED', key: `/s/n${index}`, value: `${index}${large}` })),
      { type: 'ADDED', key: '/s/small', value: 'fits' },
    ]);
  });

  it('a change that was never pushed and is followed by none reaches the watch within three heartbeat intervals', async () => {
    const ns = redis.namespace();
    await client(ns, SHORT_SESSION_TIMEOUT_MS);
    const watcher = await client(ns, SHORT_SESSION_TIMEOUT_MS);
    const recorder = new EventRecorder();
    await watcher.watch('/h', recorder.listener);
    await persistUnpushed(ns, '/h/silent', 's');
    // A heartbeat (every timeout/3) sees the revision ahead of the cursor; a later one finds the
    // cursor still behind it with no message in between: at most three intervals after the first.
    const heartbeatMs = SHORT_SESSION_TIMEOUT_MS / 3;
    await recorder.waitForEvent(
      { type: 'ADDED', key: '/h/silent', value: 's' },
      { timeoutMs: 4 * heartbeatMs + 2_000 },
    );
    expect(recorder.events).toEqual([
      { type: 'ADDED', key: '/h', value: '' },
      { type: 'ADDED', key: '/h/silent', value: 's' },
    ]);
  });
});
