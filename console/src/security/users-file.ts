/**
 * The console's users file: users with password hashes and roles, API tokens, and the global
 * read-only switch. YAML (or JSON, which is YAML).
 *
 * ```yaml
 * readOnly: false            # true: nobody can operate or edit, whatever their role
 * users:
 *   - username: alice
 *     role: admin            # admin | operator | viewer
 *     passwordHash: scrypt$131072$8$1$...   # elasticjob-console hash-password
 * tokens:
 *   - name: deploy-script
 *     role: operator
 *     tokenHash: sha256$...  # elasticjob-console new-token prints a token and this hash
 * loginMaxFailures: 5        # optional login throttle (these are the defaults), see ConsoleOptions
 * loginMaxFailuresPerAddress: 20
 * loginWindowMs: 900000
 * loginLockoutMs: 900000
 * ```
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { isPasswordHash } from './credentials.js';
import { ROLES, type Role } from './roles.js';

/** A console user. */
export interface ConsoleUser {
  readonly username: string;
  readonly role: Role;
  /** `scrypt$...` (see `hashPassword`). */
  readonly passwordHash: string;
}

/** An API token for scripts (sent as `Authorization: Bearer <token>`). */
export interface ConsoleApiToken {
  /** Who the token belongs to; shown in the audit log. */
  readonly name: string;
  readonly role: Role;
  /** `sha256$<hex>` (see `hashApiToken`). */
  readonly tokenHash: string;
}

/** The content of a users file. */
export interface ConsoleUsers {
  readonly users: readonly ConsoleUser[];
  readonly tokens: readonly ConsoleApiToken[];
  /** The global read-only switch: no operation and no edit for anybody. Default `false`. */
  readonly readOnly: boolean;
  /** Login throttle: failed sign-ins of one username that lock it (see `ConsoleOptions.loginMaxFailures`). */
  readonly loginMaxFailures?: number;
  /** Login throttle: failures from one client address that lock it (see `ConsoleOptions.loginMaxFailuresPerAddress`). */
  readonly loginMaxFailuresPerAddress?: number;
  /** Login throttle: the window failures are counted in, ms (see `ConsoleOptions.loginWindowMs`). */
  readonly loginWindowMs?: number;
  /** Login throttle: how long a lock lasts, ms (see `ConsoleOptions.loginLockoutMs`). */
  readonly loginLockoutMs?: number;
  /** Login throttle: most usernames and addresses remembered (see `ConsoleOptions.loginMaxTrackedKeys`). */
  readonly loginMaxTrackedKeys?: number;
}

/** The users file is malformed; `field` names the offending entry (e.g. `users[1].role`). */
export class UsersFileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'UsersFileError';
  }
}

const role = z.enum(ROLES);
const limit = z.int().min(1, 'a positive integer').optional();
const schema = z.strictObject({
  readOnly: z.boolean().default(false),
  loginMaxFailures: limit,
  loginMaxFailuresPerAddress: limit,
  loginWindowMs: limit,
  loginLockoutMs: limit,
  loginMaxTrackedKeys: limit,
  users: z
    .array(
      z.strictObject({
        username: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, _ . @ - (1 to 64)'),
        role,
        passwordHash: z
          .string()
          .refine(isPasswordHash, 'a scrypt hash from `elasticjob-console hash-password`'),
      }),
    )
    .default([]),
  tokens: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64),
        role,
        tokenHash: z
          .string()
          .regex(/^sha256\$[0-9a-f]{64}$/, 'sha256$<64 hex digits> from `elasticjob-console new-token`'),
      }),
    )
    .default([]),
});

function fieldOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`,
    '',
  );
}

/**
 * Validates users-file content.
 *
 * @param content - the parsed document.
 * @param source - where it came from, for messages.
 * @throws {UsersFileError} naming the first offending field and the accepted values; duplicate
 *   usernames or token names are errors too.
 */
export function parseConsoleUsers(content: unknown, source = 'users file'): ConsoleUsers {
  const result = schema.safeParse(content ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = fieldOf(issue.path);
    throw new UsersFileError(field, `${source}: ${field || 'document'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  result.data.users.forEach((user, index) => {
    if (seen.has(user.username)) {
      throw new UsersFileError(
        `users[${index}].username`,
        `${source}: duplicate username '${user.username}'`,
      );
    }
    seen.add(user.username);
  });
  const names = new Set<string>();
  result.data.tokens.forEach((token, index) => {
    if (names.has(token.name)) {
      throw new UsersFileError(`tokens[${index}].name`, `${source}: duplicate token name '${token.name}'`);
    }
    names.add(token.name);
  });
  return result.data;
}

/**
 * Reads and validates a users file.
 * @throws {UsersFileError} when it cannot be read or parsed, or is invalid.
 */
export async function loadConsoleUsers(path: string): Promise<ConsoleUsers> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsersFileError('', `cannot read users file '${path}': ${(error as Error).message}`);
  }
  let content: unknown;
  try {
    content = parse(text);
  } catch (error) {
    throw new UsersFileError('', `users file '${path}' is not valid YAML: ${(error as Error).message}`);
  }
  return parseConsoleUsers(content, `users file '${path}'`);
}
