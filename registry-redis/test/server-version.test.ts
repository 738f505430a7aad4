import { describe, expect, it } from 'vitest';
import { unsupportedServerReason } from '../src/server-version.js';

const info = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`;

describe('unsupportedServerReason', () => {
  it('accepts Redis 7 and later', () => {
    expect(unsupportedServerReason(info('7.0.15'), 'redis://h:6379')).toBeUndefined();
    expect(unsupportedServerReason(info('8.2.1'), 'redis://h:6379')).toBeUndefined();
  });

  it('names the version found and the version needed for Redis 6', () => {
    expect(unsupportedServerReason(info('6.2.14'), 'redis://h:6379')).toBe(
      'Redis at redis://h:6379 is version 6.2.14; the registry needs Redis 7.0 or later (its change feed is pushed with SPUBLISH)',
    );
  });

  it('does not stop a server whose reply has no version', () => {
    expect(unsupportedServerReason('# Server\r\n', 'redis://h:6379')).toBeUndefined();
  });
});
