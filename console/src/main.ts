#!/usr/bin/env node
/**
 * `elasticjob-console`: helpers for the console's users file.
 *
 * - `elasticjob-console hash-password` reads a password from standard input (one line) and prints
 *   its scrypt hash for `users[].passwordHash`.
 * - `elasticjob-console new-token` prints a new API token (give it to the script, once) and the
 *   hash to put in `tokens[].tokenHash`.
 *
 * The console itself starts with `elasticjob console --registry <url>` (the core CLI).
 *
 * @module
 */
import { createInterface } from 'node:readline';
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

const [command] = process.argv.slice(2);
if (command === 'hash-password') {
  if (process.stdin.isTTY) process.stderr.write('Password (input is echoed; pipe it to avoid that): ');
  const password = await readLine();
  if (password === '') {
    process.stderr.write('elasticjob-console: the password must not be empty\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${await hashPassword(password)}\n`);
  }
} else if (command === 'new-token') {
  const token = generateApiToken();
  process.stdout.write(`token:     ${token}\ntokenHash: ${hashApiToken(token)}\n`);
} else {
  process.stderr.write(USAGE);
  process.exitCode = command === undefined || command === '--help' ? 0 : 2;
}
