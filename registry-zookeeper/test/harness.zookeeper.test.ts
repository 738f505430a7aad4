import { startZookeeperServer, type ZookeeperTestServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The harness's own tests start, restart and kill a server; with an external ZK_CONNECT server there is none to control.
describe.skipIf(process.env.ZK_CONNECT !== undefined)(
  'ZooKeeper test-server harness [requires: no ZK_CONNECT]',
  () => {
    let server: ZookeeperTestServer;

    beforeAll(async () => {
      server = await startZookeeperServer();
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('serves on a loopback port and answers ruok', async () => {
      expect(server.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(server.pid).toBeGreaterThan(0);
      expect(await server.fourLetterWord('ruok')).toBe('imok');
    });

    it('restarts on the same port with a new process', async () => {
      const before = server.pid;
      const connectString = server.connectString;
      await server.restart();
      expect(server.connectString).toBe(connectString);
      expect(server.pid).not.toBe(before);
      expect(await server.fourLetterWord('ruok')).toBe('imok');
    });

    it('kill() ends the server at once; restart() brings it back', async () => {
      const pid = server.pid as number;
      await server.kill();
      expect(() => process.kill(pid, 0)).toThrow();
      await expect(server.fourLetterWord('ruok')).rejects.toThrow();
      await server.restart();
      expect(await server.fourLetterWord('ruok')).toBe('imok');
    });
  },
);
