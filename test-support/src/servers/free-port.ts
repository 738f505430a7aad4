import { createServer } from 'node:net';
import type { ManagedProcess } from './process-utils.js';

/**
 * Finds a TCP port on 127.0.0.1 that is free right now, by binding port 0 and releasing it.
 * Callers that start a server on it should retry with a new port if the bind then fails.
 *
 * @returns a free loopback port.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Finds `count` distinct TCP ports on 127.0.0.1 that are free right now (see {@link findFreePort}:
 * a port may be taken before the caller binds it).
 *
 * @param count - how many ports.
 * @returns the ports, all different.
 */
export async function findFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await findFreePort());
  return [...ports];
}

/** How {@link startMembersOnFreePorts} configures, launches and waits for the members of a test cluster. */
export interface MemberStart {
  /** Chooses fresh free ports and writes every member's configuration with them. */
  configure(): Promise<void>;
  /** Starts member `member` (0-based) with the current configuration, into `members[member]`. */
  launch(member: number): void;
  /** Resolves once member `member` serves; rejects when it does not (or its process exited). */
  waitServing(member: number): Promise<void>;
}

/** The last 2,000 characters of every member's output, labelled by member. */
export function membersOutput(members: readonly (ManagedProcess | undefined)[]): string {
  return members.map((member, i) => `--- member ${i} ---\n${member?.output().slice(-2000) ?? ''}`).join('\n');
}

/**
 * Configures, launches and waits for every member of a test cluster, and does it again on new
 * ports (at most 5 attempts in all) when a port chosen free was taken by another process before a
 * member bound it: a free port can only be known free at the moment it is chosen.
 *
 * @param label - what is started, for the error (`'etcd cluster'`).
 * @param members - the member processes, filled by `start.launch`.
 * @param start - configuration, launch and wait of one member.
 * @param portTaken - matches the output of a member that could not bind a port.
 * @throws {Error} `{label} did not start: …` with every member's output, after killing them, when
 *   the failure was not a taken port or on the fifth attempt.
 */
export async function startMembersOnFreePorts(
  label: string,
  members: readonly (ManagedProcess | undefined)[],
  start: MemberStart,
  portTaken: RegExp,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await start.configure();
      for (let i = 0; i < members.length; i++) start.launch(i);
      for (let i = 0; i < members.length; i++) await start.waitServing(i);
      return;
    } catch (error) {
      const output = membersOutput(members);
      await Promise.all(members.map((member) => member?.kill()));
      if (portTaken.test(output) && attempt < 5) continue;
      throw new Error(`${label} did not start: ${(error as Error).message}\n${output}`, { cause: error });
    }
  }
}
