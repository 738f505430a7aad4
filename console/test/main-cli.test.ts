/**
 * `elasticjob-console` (the users-file helpers): its command line as an operator uses it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));

function run(
  args: readonly string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('elasticjob-console', { timeout: 30_000 }, () => {
  beforeAll(() => {
    if (!existsSync(MAIN))
      throw new Error(
        `${MAIN} is missing: build first (npx turbo run build --filter=@elasticjob-ts/console)`,
      );
  });

  it('prints its usage for --help, also after a command, and does nothing else', async () => {
    for (const args of [['--help'], ['new-token', '--help'], ['hash-password', '-h']]) {
      const result = await run(args, 'not a password\n');
      expect(result, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^usage: elasticjob-console hash-password/);
      expect(result.stdout).not.toContain('token:');
    }
  });

  it('refuses a missing or unknown command or option with exit code 2 and the usage', async () => {
    for (const [args, message] of [
      [[], 'a command is required'],
      [['bogus'], "unknown command 'bogus'"],
      [['new-token', '--nope'], "Unknown option '--nope'"],
      [['new-token', 'extra'], "unexpected argument 'extra'"],
    ] as const) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('usage: elasticjob-console');
    }
  });

  it('prints a new token with its hash, and the hash of a password read from standard input', async () => {
    const token = await run(['new-token']);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^token: {5}ejc_\S+\ntokenHash: \S+\n$/);
    const hash = await run(['hash-password'], 'correct horse\n');
    expect(hash.code).toBe(0);
    expect(hash.stdout).toMatch(/^scrypt\S+\n$/);
    expect(await run(['hash-password'], '\n')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('must not be empty'),
    });
  });
});
