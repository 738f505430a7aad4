/**
 * Runs the `elasticjob` CLI in process against a memory registry namespace, capturing its output
 * and the registry clients it opened.
 */
import { MemoryRegistryCenter, type MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { type CliIo, runCli } from '../../src/cli/program.js';
import type { CoordinatorRegistryCenter } from '../../src/index.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly clients: CoordinatorRegistryCenter[];
}

/**
 * @param server - the memory registry server.
 * @param namespace - the namespace every command connects to.
 * @returns `run(args, connect?)`: `connect` replaces the memory connection (e.g. a failing one).
 */
export function memoryCliRunner(server: MemoryRegistryServer, namespace: string) {
  return async (args: string[], connect?: CliIo['connect']): Promise<CliRun> => {
    let stdout = '';
    let stderr = '';
    const clients: CoordinatorRegistryCenter[] = [];
    const code = await runCli(args, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: { ELASTICJOB_REGISTRY: `zookeeper://unused:2181/${namespace}` },
      waitForStopSignal: () => new Promise(() => {}),
      connect:
        connect ??
        (async () => {
          const client = new MemoryRegistryCenter({ server, namespace });
          await client.start();
          clients.push(client);
          return client;
        }),
    });
    return { code, stdout, stderr, clients };
  };
}
