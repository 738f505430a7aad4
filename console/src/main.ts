#!/usr/bin/env node
/**
 * `elasticjob-console`: helpers for the console's users file.
 *
 * - `elasticjob-console hash-password` reads a password from standard input (one line) and prints
 *   its scrypt hash for `users[].passwordHash`.
 * - `elasticjob-console new-token` prints a new API token (give it to the script, once) and the
 *   hash to put in `tokens[].tokenHash`.
 *
 * `--help` prints this usage (exit 0); no command, an unknown one or an unknown option exit 2.
 * The console itself starts with `elasticjob console --registry <url>` (the core CLI).
 *
 * @module
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { generateApiToken, hashApiToken, hashPassword } from './security/credentials.js';

async function readLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

const USAGE =
  'usage: elasticjob-console hash-password   (password on standard input)\n       elasticjob-console new-token\n';

/** Exit code of a wrong command line, as the `elasticjob` CLI's. */
const USAGE_EXIT_CODE = 2;

function parseCommandLine(): { command: string | undefined; help: boolean } | string {
  try {
    const { positionals, values } = parseArgs({
      args: process.argv.slice(2),
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
    if (positionals.length > 1) return `unexpected argument '${positionals[1]}'`;
    return { command: positionals[0], help: values.help === true };
  } catch (error) {
    return (error as Error).message;
  }
}

const parsed = parseCommandLine();
if (typeof parsed === 'string') {
  process.stderr.write(`elasticjob-console: ${parsed}\n${USAGE}`);
  process.exitCode = USAGE_EXIT_CODE;
} else if (parsed.help) {
  process.stdout.write(USAGE);
} else if (parsed.command === 'hash-password') {
  if (process.stdin.isTTY) process.stderr.write('Password (input is echoed; pipe it to avoid that): ');
  const password = await readLine();
  if (password === '') {
    process.stderr.write('elasticjob-console: the password must not be empty\n');
    process.exitCode = USAGE_EXIT_CODE;
  } else {
    process.stdout.write(`${await hashPassword(password)}\n`);
  }
} else if (parsed.command === 'new-token') {
  const token = generateApiToken();
  process.stdout.write(`token:     ${token}\ntokenHash: ${hashApiToken(token)}\n`);
} else {
  process.stderr.write(
    `elasticjob-console: ${parsed.command === undefined ? 'a command is required' : `unknown command '${parsed.command}'`}\n${USAGE}`,
  );
  process.exitCode = USAGE_EXIT_CODE;
}
