/**
 * Starting a group of members on ports chosen free: a port taken by another process before a
 * member binds it makes the group start again on new ports; any other failure ends the start with
 * every member's output. The members are small Node.js processes that listen on one port each.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findFreePort,
  findFreePorts,
  type ManagedProcess,
  spawnManagedProcess,
  startMembersOnFreePorts,
  waitUntil,
} from '../src/index.js';

/** A member: listens on `port` (exits with Node.js's EADDRINUSE error when it cannot) until killed. */
function listener(port: number, ready: string): ManagedProcess {
  const script = `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log(${JSON.stringify(ready)}))`;
  return spawnManagedProcess(process.execPath, ['-e', script]);
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('startMembersOnFreePorts', () => {
  const members: (ManagedProcess | undefined)[] = [undefined, undefined];
  const held: Server[] = [];

  afterEach(async () => {
    await Promise.all(members.map((member) => member?.kill()));
    await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /**
   * Starts the two members. Without `failure`, the first configuration gives member 1 a port
   * another process holds; with it, every port is free and waiting fails with `failure`.
   */
  async function startWithOneTakenPort(failure?: string): Promise<number[][]> {
    const taken = await findFreePort();
    if (failure === undefined) held.push(await holdPort(taken));
    const attempts: number[][] = [];
    await startMembersOnFreePorts(
      'test group',
      members,
      {
        async configure() {
          const ports = await findFreePorts(2);
          attempts.push(attempts.length === 0 && failure === undefined ? [ports[0] as number, taken] : ports);
        },
        launch(member) {
          members[member] = listener(attempts.at(-1)?.[member] as number, `member ${member} serves`);
        },
        async waitServing(member) {
          if (failure !== undefined) throw new Error(failure);
          await waitUntil(() => members[member]?.output().includes(`member ${member} serves`) ?? false, {
            timeoutMs: 10_000,
            description: `member ${member} to serve`,
            abortIf: () => (members[member]?.isRunning() ? undefined : 'the member process exited'),
          });
        },
      },
      /address already in use/i,
    );
    return attempts;
  }

  it('starts again on new ports when a port chosen free was taken before a member bound it', async () => {
    const attempts = await startWithOneTakenPort();
    expect(attempts).toHaveLength(2);
    expect(members.every((member) => member?.isRunning())).toBe(true);
  });

  it('gives up at once, with every member output and no member left running, when the failure is not a taken port', async () => {
    await expect(startWithOneTakenPort('not serving')).rejects.toThrow(
      /^test group did not start: not serving\n--- member 0 ---/,
    );
    expect(members.some((member) => member?.isRunning())).toBe(false);
  });
});
