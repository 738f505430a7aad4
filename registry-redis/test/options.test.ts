/**
 * Configuration validation and the URL → topology mapping (no server needed).
 */
import { RegistryConfigurationError } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import { resolveRedisOptions } from '../src/options.js';

const base = { type: 'redis', namespace: 'demo' } as const;

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof RegistryConfigurationError) return error.field;
    throw error;
  }
  return undefined;
}

describe('resolveRedisOptions', () => {
  it('maps redis:// to one server with the coordinator settings and the defaults', () => {
    const resolved = resolveRedisOptions({ ...base, url: 'redis://alice:s%3Acret@10.0.0.5:6380/2' });
    expect(resolved.topology.kind).toBe('server');
    const options = resolved.topology.kind === 'server' ? resolved.topology.options : {};
    expect(options).toMatchObject({
      host: '10.0.0.5',
      port: 6380,
      db: 2,
      username: 'alice',
      password: 's:cret',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 15_000,
      commandTimeout: 5_000,
    });
    expect(options.retryStrategy?.(1)).toBeGreaterThan(0);
    expect(options.retryStrategy?.(100)).toBe(1_000);
    expect(resolved.sessionTimeoutMs).toBe(60_000);
    expect(resolved.keyPrefix).toBe('elasticjob:{demo}:');
    expect(resolved.displayUrl).toBe('redis://10.0.0.5:6380/2');
  });

  it('turns TLS on for rediss:// and takes credentials from the options over the URL', () => {
    const resolved = resolveRedisOptions({
      ...base,
      url: 'rediss://url-user:url-pass@cache.example:6379',
      username: 'option-user',
      password: 'option-pass',
      tls: { ca: 'PEM' },
    });
    const options = resolved.topology.kind === 'server' ? resolved.topology.options : {};
    expect(options).toMatchObject({ tls: { ca: 'PEM' }, username: 'option-user', password: 'option-pass' });
  });

  it('maps redis+sentinel:// to the named primary of the sentinels', () => {
    const resolved = resolveRedisOptions({ ...base, url: 'redis+sentinel://s1:26379,s2/mymaster' });
    const options = resolved.topology.kind === 'server' ? resolved.topology.options : {};
    expect(options).toMatchObject({
      name: 'mymaster',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
  });

  it('uses tls for the Sentinels and the primary they name', () => {
    const resolved = resolveRedisOptions({
      ...base,
      url: 'redis+sentinel://s1/mymaster',
      tls: { ca: 'PEM' },
    });
    const options = resolved.topology.kind === 'server' ? resolved.topology.options : {};
    expect(options).toMatchObject({
      tls: { ca: 'PEM' },
      sentinelTLS: { ca: 'PEM' },
      enableTLSForSentinelMode: true,
    });
    const plain = resolveRedisOptions({ ...base, url: 'redis+sentinel://s1/mymaster' });
    expect(plain.topology.kind === 'server' ? plain.topology.options : {}).not.toHaveProperty('sentinelTLS');
  });

  it('maps redis+cluster:// to a cluster whose namespace keys share one hash tag', () => {
    const resolved = resolveRedisOptions({
      ...base,
      namespace: 'a/b',
      url: 'redis+cluster://n1:7000,n2:7001',
    });
    expect(resolved.topology).toMatchObject({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
    });
    expect(resolved.keyPrefix).toBe('elasticjob:{a/b}:');
  });

  it('rejects bad input naming the field', () => {
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: 'http://localhost:6379' }))).toBe('url');
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: '' }))).toBe('url');
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: 'redis://a:1,b:2' }))).toBe('url');
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: 'redis+sentinel://s1:26379' }))).toBe('url');
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: 'redis://h/x' }))).toBe('url');
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: 'redis://h', sessionTimeoutMs: 0 }))).toBe(
      'sessionTimeoutMs',
    );
    expect(fieldOf(() => resolveRedisOptions({ ...base, url: 'redis://h', commandTimeoutMs: 1.5 }))).toBe(
      'commandTimeoutMs',
    );
    expect(fieldOf(() => resolveRedisOptions({ ...base, namespace: 'bad}ns', url: 'redis://h' }))).toBe(
      'namespace',
    );
    expect(() => resolveRedisOptions({ ...base, url: 'ftp://h' })).toThrow(/redis:\/\/, rediss:\/\//);
  });

  it('rejects TLS material that is not PEM, naming the field, and a certificate without its key', () => {
    const withTls = (tls: unknown) => () =>
      resolveRedisOptions({ ...base, url: 'rediss://h', tls } as unknown as Parameters<
        typeof resolveRedisOptions
      >[0]);
    expect(fieldOf(withTls('PEM'))).toBe('tls');
    expect(fieldOf(withTls(null))).toBe('tls');
    expect(fieldOf(withTls({ ca: 42 }))).toBe('tls.ca');
    expect(fieldOf(withTls({ cert: 'C' }))).toBe('tls.key');
    expect(fieldOf(withTls({ key: 'K' }))).toBe('tls.cert');
    expect(fieldOf(withTls({ ca: Buffer.from('CA'), cert: 'C', key: 'K' }))).toBeUndefined();
  });
});
