/** Users file, password and token hashing, and the bind rule — no server needed. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRegistryCenter } from '@elasticjob-ts/registry-memory';
import { describe, expect, it } from 'vitest';
import {
  ConsoleOptionsError,
  generateApiToken,
  hashApiToken,
  hashPassword,
  isLoopbackHost,
  loadConsoleUsers,
  parseConsoleUsers,
  startConsole,
  UsersFileError,
  verifyPassword,
} from '../src/index.js';

const COST = { N: 1024, r: 8, p: 1 };

describe('credentials', () => {
  it('verifies the right password only, with a salted scrypt hash', async () => {
    const hash = await hashPassword('s3cret', COST);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await hashPassword('s3cret', COST)).not.toBe(hash);
    expect(await verifyPassword('s3cret', hash)).toBe(true);
    expect(await verifyPassword('s3cret ', hash)).toBe(false);
    expect(await verifyPassword('s3cret', 'plain-text')).toBe(false);
    await expect(hashPassword('')).rejects.toThrow(/password must not be empty/);
  });

  it('API tokens are random and stored as their SHA-256', () => {
    const token = generateApiToken();
    expect(token).toMatch(/^ejc_[A-Za-z0-9_-]{43}$/);
    expect(generateApiToken()).not.toBe(token);
    expect(hashApiToken(token)).toMatch(/^sha256\$[0-9a-f]{64}$/);
  });
});

describe('users file', () => {
  it('names the offending field and the accepted values', async () => {
    const hash = await hashPassword('x', COST);
    expect(() => parseConsoleUsers({ users: [{ username: 'a', role: 'root', passwordHash: hash }] })).toThrow(
      expect.objectContaining({
        field: 'users[0].role',
        message: expect.stringMatching(/admin.*operator.*viewer/),
      }),
    );
    expect(() =>
      parseConsoleUsers({ users: [{ username: 'a', role: 'admin', passwordHash: 'secret' }] }),
    ).toThrow(expect.objectContaining({ field: 'users[0].passwordHash' }));
    expect(() =>
      parseConsoleUsers({
        users: [
          { username: 'a', role: 'admin', passwordHash: hash },
          { username: 'a', role: 'viewer', passwordHash: hash },
        ],
      }),
    ).toThrow(expect.objectContaining({ field: 'users[1].username' }));
    expect(() => parseConsoleUsers({ tokens: [{ name: 't', role: 'viewer', tokenHash: 'abc' }] })).toThrow(
      UsersFileError,
    );
    expect(() => parseConsoleUsers({ readonly: true })).toThrow(expect.objectContaining({ field: '' }));
  });

  it('loads a YAML file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ejc-users-'));
    try {
      const file = join(dir, 'users.yaml');
      const hash = await hashPassword('x', COST);
      await writeFile(
        file,
        `readOnly: true\nusers:\n  - username: alice\n    role: operator\n    passwordHash: ${hash}\n`,
      );
      const users = await loadConsoleUsers(file);
      expect(users).toEqual({
        readOnly: true,
        users: [{ username: 'alice', role: 'operator', passwordHash: hash }],
        tokens: [],
      });
      await expect(loadConsoleUsers(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read users file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bind rule', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.org']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses a non-loopback host without users, naming the option', async () => {
    const registry = new MemoryRegistryCenter({ namespace: 'bind-rule' });
    await registry.start();
    try {
      await expect(
        startConsole({ registries: [{ client: registry }], host: '0.0.0.0', port: 0 }),
      ).rejects.toThrow(expect.objectContaining({ name: 'ConsoleOptionsError', field: 'host' }));
      await expect(startConsole({ registries: [], port: 0 })).rejects.toThrow(ConsoleOptionsError);
      const hash = await hashPassword('x', COST);
      const running = await startConsole({
        registries: [{ client: registry }],
        host: '0.0.0.0',
        port: 0,
        users: {
          readOnly: false,
          tokens: [],
          users: [{ username: 'a', role: 'viewer', passwordHash: hash }],
        },
      });
      expect(running.port).toBeGreaterThan(0);
      await running.close();
    } finally {
      await registry.close();
    }
  });
});
