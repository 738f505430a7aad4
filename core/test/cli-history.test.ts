/**
 * `elasticjob history` is delegated to the optional @elasticjob-ts/tracing package: it runs when
 * the package is installed, and names the package to install when it is not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHistoryCommand, TRACING_PACKAGE } from '../src/cli/history-command.js';
import { runCli } from '../src/cli/program.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: (t: string) => {
      out.stdout += t;
    },
    stderr: (t: string) => {
      out.stderr += t;
    },
    env: {},
    waitForStopSignal: () => new Promise<string>(() => undefined),
  };
  return { out, io };
}

describe('elasticjob history', () => {
  it('runs the tracing package’s history command with its own options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elasticjob-cli-history-'));
    try {
      const { out, io } = capture();
      // A SQLite file that does not exist: the tracing package's own usage error, exit code 2.
      const code = await runCli(
        ['history', 'executions', '--db', `sqlite:${join(dir, 'none.db')}`, '--json'],
        io,
      );
      expect(code).toBe(2);
      expect(out.stderr).toContain('no history database file');
      const help = capture();
      expect(await runCli(['history', '--help'], help.io)).toBe(0);
      expect(help.out.stdout).toMatch(/executions[\s\S]*status[\s\S]*stats/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the package to install when it is missing', async () => {
    const { out, io } = capture();
    const missing = Object.assign(new Error(`Cannot find package '${TRACING_PACKAGE}'`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const code = await runHistoryCommand(['executions'], io, () => Promise.reject(missing));
    expect(code).toBe(2);
    expect(out.stderr).toContain(`npm install ${TRACING_PACKAGE}`);
    const broken = new Error('syntax error in module');
    await expect(runHistoryCommand([], io, () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('lists history in the main help', async () => {
    const { out, io } = capture();
    await runCli(['--help'], io);
    expect(out.stdout).toMatch(/history \[args\.\.\.\]\s+execution history/);
  });
});
