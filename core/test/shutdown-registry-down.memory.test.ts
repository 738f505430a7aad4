/**
 * A shutdown while the registry cannot be reached: the withdrawal of the instance node and the
 * leader's resharding are bounded and left pending. When the application then closes the registry
 * client, they fail: that is expected after a shutdown, and logged at info (the instance node ends
 * with the session; the resharding is abandoned), not as warnings or errors promising retries.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { describe, expect, it } from 'vitest';
import { type Logger, ScheduleJobBootstrap } from '../src/index.js';

interface Line {
  readonly level: string;
  readonly msg: string;
}

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') });
    };
  const logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  } as unknown as Logger;
  return logger;
}

function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (condition()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`condition not met within ${timeoutMs} ms`));
      }
    }, 10);
  });
}

describe('shutdown with the registry unreachable', () => {
  it('does not promise a retry of the withdrawal once the registry client is closed', async () => {
    const server = new MemoryRegistryServer();
    const client = new MemoryRegistryCenter({ server, namespace: 'shutdown-down', sessionTimeoutMs: 60_000 });
    await client.start();
    const lines: Line[] = [];
    const bootstrap = new ScheduleJobBootstrap(
      client,
      { execute: async () => {} },
      { jobName: 'orders', cron: '0 0 0 1 1 ? 2099', shardingTotalCount: 2 },
      { instanceId: '10.0.0.1@-@1', serverIp: '10.0.0.1', logger: recordingLogger(lines) },
    );
    await bootstrap.schedule();

    // Requests are lost and the client does not notice for a minute: every call hangs.
    client.faults.partition({ detectAfterMs: 60_000 });
    await bootstrap.shutdown();
    expect(lines.map((line) => line.msg)).toContainEqual(
      expect.stringMatching(/^registry did not answer within \d+ ms: skipped releasing leadership/),
    );
    const shutDownAt = lines.length;
    await client.close();

    // The withdrawal and the leader's resharding were still waiting: closing fails them.
    await until(() => lines.some((line) => line.msg.startsWith('instance node not withdrawn')), 5_000);
    await until(
      () => lines.some((line) => line.msg === 'resharding failed after the job shut down: abandoned'),
      5_000,
    );
    const after = lines.slice(shutDownAt);
    expect(after.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    expect(after.map((line) => line.msg).join('\n')).not.toMatch(/retried on reconnection/);
  });
});
