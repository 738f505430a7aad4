import { isEtcdHealthy, startEtcdServer } from '@elasticjob-ts/test-support';
import { describe, expect, it } from 'vitest';

describe('etcd test-server harness', () => {
  it('starts, restarts on the same port, is killed and stopped', async () => {
    const server = await startEtcdServer();
    try {
      const [endpoint] = server.endpoints;
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await isEtcdHealthy(endpoint!)).toBe(true);
      const firstPid = server.pid;
      await server.kill();
      expect(await isEtcdHealthy(endpoint!)).toBe(false);
      await server.restart();
      expect(server.pid).not.toBe(firstPid);
      expect(await isEtcdHealthy(endpoint!)).toBe(true);
    } finally {
      await server.stop();
    }
    await expect(server.restart()).rejects.toThrow(/was stopped/);
  });
});
