/**
 * The process bookkeeping shared by multi-server test clusters (etcd cluster, ZooKeeper
 * ensemble): start every member, kill or restart one, stop all and delete their data.
 *
 * @module
 */
import { type ManagedProcess, removeDir } from './process-utils.js';

/** How a {@link startServerGroup} runs one member. */
export interface ServerGroupMemberSpec {
  /** Unique name, for messages. */
  readonly name: string;
  /** Spawns the member's process (again, after a kill). */
  launch(): ManagedProcess;
  /** Resolves once the freshly launched `child` serves; rejects when it exits or times out. */
  waitReady(child: ManagedProcess): Promise<void>;
}

/** Process control of one member of a {@link ServerGroup}. */
export interface ServerGroupMember {
  /** Whether its process runs. */
  isRunning(): boolean;
  /** SIGKILLs the member and resolves once it exited. */
  kill(): Promise<void>;
  /** Starts a killed member again (same data); resolves once it serves. */
  restart(): Promise<void>;
}

/** Running members and their teardown. */
export interface ServerGroup {
  /** One entry per spec, in spec order. */
  readonly members: readonly ServerGroupMember[];
  /** Kills every member and deletes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Launches every member at once and waits until all serve; on failure kills them all, deletes
 * `dir` and rethrows.
 *
 * @param dir - the group's temp directory (deleted by `stop()`).
 * @param specs - the members.
 * @returns the running group.
 */
export async function startServerGroup(
  dir: string,
  specs: readonly ServerGroupMemberSpec[],
): Promise<ServerGroup> {
  const processes = new Map<string, ManagedProcess>();
  let stopped = false;
  const launch = (spec: ServerGroupMemberSpec): ManagedProcess => {
    const child = spec.launch();
    processes.set(spec.name, child);
    return child;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...processes.values()].map((child) => child.kill()));
    await removeDir(dir);
  };
  try {
    await Promise.all(specs.map((spec) => spec.waitReady(launch(spec))));
  } catch (error) {
    await stop();
    throw error;
  }
  const members = specs.map((spec) => ({
    isRunning: () => processes.get(spec.name)?.isRunning() ?? false,
    async kill() {
      await processes.get(spec.name)?.kill();
    },
    async restart() {
      if (stopped) throw new Error(`the test cluster was stopped; cannot restart ${spec.name}`);
      await processes.get(spec.name)?.kill();
      await spec.waitReady(launch(spec));
    },
  }));
  return { members, stop };
}
