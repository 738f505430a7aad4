/**
 * Password and API-token hashing: scrypt (node:crypto) for passwords, SHA-256 for the long random
 * API tokens. Only hashes are ever stored; comparisons are constant-time.
 *
 * @module
 */
import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters of new hashes (OWASP's minimum for scrypt: N=2^17, r=8, p=1). */
const DEFAULT_COST = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** Prefix of every API token, so a leaked token is recognisable by secret scanners. */
export const API_TOKEN_PREFIX = 'ejc_';

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes a password for the users file: `scrypt$N$r$p$<salt base64url>$<hash base64url>`.
 *
 * @param password - the password (non-empty).
 * @param cost - scrypt parameters; default N=131072, r=8, p=1.
 * @throws {TypeError} when the password is empty.
 */
export async function hashPassword(
  password: string,
  cost: { N: number; r: number; p: number } = DEFAULT_COST,
): Promise<string> {
  if (password === '') throw new TypeError('password must not be empty');
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * A hash of a random password with the scrypt cost of `like` (or the default cost), to verify
 * against when a sign-in names an unknown user: the check then costs what a real user's does, so
 * its time does not tell whether the user exists.
 *
 * @param like - a {@link hashPassword} hash whose cost to copy; a malformed one is ignored.
 */
export function decoyPasswordHash(like?: string): Promise<string> {
  const cost =
    like !== undefined && isPasswordHash(like)
      ? (([n, r, p]) => ({ N: Number(n), r: Number(r), p: Number(p) }))(like.split('$').slice(1, 4))
      : DEFAULT_COST;
  return hashPassword(randomBytes(16).toString('hex'), cost);
}

/** Whether `hash` has the form {@link hashPassword} writes. */
export function isPasswordHash(hash: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/.test(hash);
}

/**
 * Checks a password against a {@link hashPassword} hash in constant time.
 * @returns `false` for a wrong password or a malformed hash.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!isPasswordHash(hash)) return false;
  const [, n, r, p, salt, expected] = hash.split('$') as [string, string, string, string, string, string];
  const expectedKey = Buffer.from(expected, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expectedKey.length && timingSafeEqual(key, expectedKey);
}

/** A new random API token (`ejc_` + 32 random bytes, base64url). Shown once; store only its hash. */
export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of an API token: `sha256$<hex>` (tokens are random, so no salt or stretching is needed). */
export function hashApiToken(token: string): string {
  return `sha256$${createHash('sha256').update(token).digest('hex')}`;
}

/** Constant-time equality of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
