/**
 * Brute-force protection: the throttle on its own (a fake clock), then sign-in and API tokens
 * through a running console on a memory registry with the same fake clock. Nothing sleeps.
 */
import { MemoryRegistryCenter } from '@elasticjob-ts/registry-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsoleUsers, type RunningConsole } from '../src/index.js';
import { decoyPasswordHash, verifyPassword } from '../src/security/credentials.js';
import { clientAddressKey, LoginThrottle, type ThrottleAttempt } from '../src/security/login-throttle.js';
import {
  ApiClient,
  PASSWORDS,
  RecordingLogger,
  startTestConsole,
  testUsers,
} from './support/console-fixture.js';

const MINUTE = 60_000;

class FakeClock {
  nowMs = Date.UTC(2025, 0, 1);
  readonly now = () => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

function accepted(result: ReturnType<LoginThrottle['begin']>): ThrottleAttempt {
  if (result.refused) throw new Error(`refused, retry after ${result.retryAfterSeconds} s`);
  return result;
}

describe('LoginThrottle', () => {
  it('locks a username after maxFailures within the window, for lockoutMs', () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle({
      maxFailures: 3,
      windowMs: 10 * MINUTE,
      lockoutMs: 5 * MINUTE,
      now: clock.now,
    });
    expect(accepted(throttle.begin('alice', '10.0.0.1')).failed()).toEqual([]);
    expect(accepted(throttle.begin('alice', '10.0.0.2')).failed()).toEqual([]);
    expect(accepted(throttle.begin('alice', '10.0.0.3')).failed()).toEqual([
      { kind: 'username', key: 'alice', lockedUntilMs: clock.nowMs + 5 * MINUTE },
    ]);
    expect(throttle.begin('alice', '10.0.0.4')).toEqual({
      refused: true,
      kind: 'username',
      retryAfterSeconds: 300,
    });
    expect(throttle.begin('bob', '10.0.0.4').refused).toBe(false);
    clock.advance(5 * MINUTE - 1500);
    expect(throttle.begin('alice', '10.0.0.4')).toMatchObject({ retryAfterSeconds: 2 });
    clock.advance(1500);
    expect(throttle.begin('alice', '10.0.0.4').refused).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle({ maxFailures: 2, windowMs: MINUTE, now: clock.now });
    accepted(throttle.begin('alice', 'a')).failed();
    clock.advance(MINUTE);
    expect(accepted(throttle.begin('alice', 'a')).failed()).toEqual([]);
    expect(accepted(throttle.begin('alice', 'a')).failed()).toHaveLength(1);
  });

  it('a success clears the username, not the address', () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle({ maxFailures: 2, maxFailuresPerAddress: 3, now: clock.now });
    accepted(throttle.begin('alice', 'a')).failed();
    accepted(throttle.begin('alice', 'a')).succeeded();
    expect(accepted(throttle.begin('alice', 'a')).failed()).toEqual([]);
    const locks = accepted(throttle.begin('carol', 'a')).failed();
    expect(locks).toEqual([{ kind: 'address', key: 'a', lockedUntilMs: expect.any(Number) }]);
    expect(throttle.begin('dave', 'a')).toMatchObject({ refused: true, kind: 'address' });
    expect(throttle.begin(undefined, 'b').refused).toBe(false);
  });

  it('counts attempts in flight, so parallel guesses cannot exceed the limit', () => {
    const throttle = new LoginThrottle({ maxFailures: 2 });
    const first = accepted(throttle.begin('alice', 'a'));
    const second = accepted(throttle.begin('alice', 'b'));
    expect(throttle.begin('alice', 'c')).toEqual({ refused: true, kind: 'username', retryAfterSeconds: 1 });
    first.succeeded();
    second.failed();
    expect(throttle.begin('alice', 'c').refused).toBe(false);
    expect(() => first.failed()).toThrow(/reported once/);
  });

  it('keeps at most maxTrackedKeys keys, dropping idle ones first, then the least recently failed', () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle({
      maxTrackedKeys: 4,
      maxFailures: 2,
      windowMs: MINUTE,
      now: clock.now,
    });
    accepted(throttle.begin('old', 'a')).failed();
    clock.advance(MINUTE);
    accepted(throttle.begin('u1', 'b')).failed();
    expect(throttle.trackedKeys).toBe(4);
    accepted(throttle.begin('u2', 'b')).failed();
    // 'old' and 'a' had nothing left to remember: they made room.
    expect(throttle.trackedKeys).toBe(3);
    for (let user = 3; user < 50; user++) accepted(throttle.begin(`u${user}`, `addr-${user}`)).failed();
    expect(throttle.trackedKeys).toBe(4);
    accepted(throttle.begin('u49', 'addr-49')).failed();
    expect(throttle.begin('u49', 'addr-50')).toMatchObject({ refused: true, kind: 'username' });
    // Successful token requests leave nothing behind.
    accepted(throttle.begin(undefined, 'addr-51')).succeeded();
    expect(throttle.trackedKeys).toBeLessThanOrEqual(4);
  });

  it('refuses limits that are not positive integers, naming them', () => {
    expect(() => new LoginThrottle({ maxFailures: 0 })).toThrow(/maxFailures must be a positive integer/);
    expect(() => new LoginThrottle({ lockoutMs: 1.5 })).toThrow(/lockoutMs/);
  });

  it('keys IPv4 as is and IPv6 by its /64', () => {
    expect(clientAddressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddressKey('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(clientAddressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey(undefined)).toBe('unknown');
  });
});

describe('decoy password hash', () => {
  it('has the scrypt cost of the users, so an unknown user costs what a real one does', async () => {
    const like = 'scrypt$1024$8$1$c2FsdA$aGFzaA';
    const decoy = await decoyPasswordHash(like);
    expect(decoy).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('anything', decoy)).toBe(false);
    expect(await decoyPasswordHash('not-a-hash')).toMatch(/^scrypt\$131072\$8\$1\$/);
  });
});

interface Problem {
  type: string;
  status: number;
  field?: string;
  retryAfterSeconds?: number;
}

describe('sign-in and API tokens through the console', () => {
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  let registry: MemoryRegistryCenter;
  let running: RunningConsole;
  let operatorToken: string;
  const client = () => new ApiClient(running.url);

  beforeAll(async () => {
    registry = new MemoryRegistryCenter({ namespace: 'login-throttle' });
    await registry.start();
    const fixture = await testUsers();
    operatorToken = fixture.operatorToken;
    running = await startTestConsole({
      registries: [{ client: registry }],
      users: { ...fixture.users, loginMaxFailures: 3, loginWindowMs: 10 * MINUTE },
      loginMaxFailuresPerAddress: 12,
      loginLockoutMs: 5 * MINUTE,
      now: clock.now,
      logger,
    });
  });

  afterAll(async () => {
    await running.close();
    await registry.close();
  });

  async function expectLocked(response: Response, field: string): Promise<Problem> {
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as Problem;
    expect(body).toMatchObject({ type: 'urn:elasticjob-console:too-many-attempts', status: 429, field });
    expect(response.headers.get('retry-after')).toBe(String(body.retryAfterSeconds));
    return body;
  }

  it('locks a user after repeated wrong passwords, refuses even the right one until the lockout ends', async () => {
    for (let attempt = 0; attempt < 3; attempt++)
      expect((await client().login('operator', 'wrong')).status).toBe(401);
    const lockout = logger.entries.filter((entry) => entry.context.action === 'lockout');
    expect(lockout).toEqual([
      expect.objectContaining({
        level: 'warn',
        context: expect.objectContaining({
          audit: true,
          via: 'sign-in',
          user: 'operator',
          outcome: 'locked',
          lockedUntil: new Date(clock.nowMs + 5 * MINUTE).toISOString(),
        }),
      }),
    ]);
    expect(JSON.stringify(lockout)).not.toContain('wrong');

    const refused = await expectLocked(await client().login('operator', PASSWORDS.operator), 'body.username');
    expect(refused.retryAfterSeconds).toBe(300);

    // Another user signs in from the same address.
    expect((await client().login('viewer', PASSWORDS.viewer)).status).toBe(200);

    clock.advance(4 * MINUTE);
    expect(
      (await expectLocked(await client().login('operator', PASSWORDS.operator), 'body.username'))
        .retryAfterSeconds,
    ).toBe(60);
    clock.advance(MINUTE);
    expect((await client().login('operator', PASSWORDS.operator)).status).toBe(200);
  });

  it('a successful sign-in clears the count of failures', async () => {
    for (let round = 0; round < 2; round++) {
      expect((await client().login('admin', 'wrong')).status).toBe(401);
      expect((await client().login('admin', 'wrong')).status).toBe(401);
      expect((await client().login('admin', PASSWORDS.admin)).status).toBe(200);
    }
  });

  it('locks an unknown user the same way', async () => {
    for (let attempt = 0; attempt < 3; attempt++)
      expect((await client().login('mallory', 'guess')).status).toBe(401);
    await expectLocked(await client().login('mallory', 'guess'), 'body.username');
    clock.advance(5 * MINUTE);
  });

  it('locks the client address after failures across users and wrong API tokens', async () => {
    clock.advance(10 * MINUTE); // earlier tests' address failures leave the window
    for (const name of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9'])
      expect((await client().login(name, 'x')).status).toBe(401);
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await new ApiClient(running.url, 'ejc_not-a-token').request('GET', '/api/v1/jobs');
      expect(response.status).toBe(401);
    }
    expect(
      logger.entries.filter((entry) => entry.context.action === 'lockout').at(-1)?.context,
    ).toMatchObject({
      via: 'token',
      address: '127.0.0.1',
      outcome: 'locked',
    });
    await expectLocked(await client().login('viewer', PASSWORDS.viewer), 'body.username');
    await expectLocked(
      await new ApiClient(running.url, operatorToken).request('GET', '/api/v1/jobs'),
      'header.Authorization',
    );
    clock.advance(5 * MINUTE);
    expect((await new ApiClient(running.url, operatorToken).request('GET', '/api/v1/jobs')).status).toBe(200);
    expect((await client().login('viewer', PASSWORDS.viewer)).status).toBe(200);
  });

  it('documents the 429 of sign-in in the OpenAPI document', async () => {
    type Operation = { description: string; responses: Record<string, { headers?: object }> };
    const document = await client().get<{ paths: Record<string, { post?: Operation }> }>(
      '/api/v1/openapi.json',
    );
    const signIn = document.paths['/api/v1/session']?.post;
    expect(signIn?.responses['429']?.headers).toHaveProperty('Retry-After');
    expect(signIn?.description).toMatch(/loginMaxFailures/);
  });
});

describe('login limits in the options and the users file', () => {
  it('reads them from the users file, naming an invalid one', () => {
    expect(parseConsoleUsers({ loginMaxFailures: 3, loginLockoutMs: 60_000 })).toMatchObject({
      loginMaxFailures: 3,
      loginLockoutMs: 60_000,
    });
    expect(() => parseConsoleUsers({ loginWindowMs: -1 })).toThrow(
      expect.objectContaining({ field: 'loginWindowMs' }),
    );
    expect(() => parseConsoleUsers({ loginMaxFailures: 2.5 })).toThrow(
      expect.objectContaining({ field: 'loginMaxFailures' }),
    );
  });

  it('names an invalid option', async () => {
    const registry = new MemoryRegistryCenter({ namespace: 'login-limits' });
    await registry.start();
    try {
      const { users } = await testUsers();
      await expect(
        startTestConsole({ registries: [{ client: registry }], users, loginLockoutMs: 0 }),
      ).rejects.toThrow(expect.objectContaining({ name: 'ConsoleOptionsError', field: 'loginLockoutMs' }));
    } finally {
      await registry.close();
    }
  });
});
