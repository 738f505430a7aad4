/**
 * `executeInTransaction` on Redis: operations are validated here (types, keys, values) and sent to
 * the transaction script as flat arguments; the script checks them all against the state the
 * earlier ones leave and applies them only if every check passed.
 *
 * @module
 */
import { assertRegistryPath, type RegistryTransactionOperation } from '@elasticjob-ts/core/adapter';
import { type RegistryScript, TRANSACTION } from './lua.js';
import { toRegistryError } from './to-registry-error.js';

/** A transaction ready for the script. */
export interface EncodedTransaction {
  readonly script: RegistryScript;
  /** The path of each operation, for error reports. */
  readonly paths: readonly string[];
  /** `ARGV[2..]`: per operation type, path, has-value flag, value. */
  readonly args: readonly string[];
}

const TYPES = ['check', 'create', 'update', 'delete'];

/**
 * Validates and encodes operations.
 *
 * @throws {TypeError} naming the operation index and the invalid field.
 */
export function encodeTransaction(operations: readonly RegistryTransactionOperation[]): EncodedTransaction {
  if (!Array.isArray(operations)) throw new TypeError('executeInTransaction: operations must be an array');
  const paths: string[] = [];
  const args: string[] = [];
  operations.forEach((operation, index) => {
    const type = (operation as { type?: unknown } | undefined)?.type;
    if (typeof type !== 'string' || !TYPES.includes(type)) {
      throw new TypeError(
        `executeInTransaction: operation ${index} has type ${JSON.stringify(type)}; accepted: ${TYPES.join(', ')}`,
      );
    }
    const key = operation.key;
    assertRegistryPath(key, type === 'check');
    const value = (operation as { value?: unknown }).value;
    if (value !== undefined && typeof value !== 'string') {
      throw new TypeError(`executeInTransaction: operation ${index} ('${key}') value must be a string`);
    }
    if (type === 'update' && value === undefined) {
      throw new TypeError(`executeInTransaction: operation ${index} ('${key}') update needs a value`);
    }
    paths.push(key);
    args.push(type, key, value === undefined ? '0' : '1', value ?? '');
  });
  return { script: TRANSACTION, paths, args };
}

/**
 * Runs an encoded transaction.
 *
 * @param call - runs the script with `ARGV[2..]`.
 * @throws {RegistryError} `TRANSACTION_FAILED` (index, path, cause) or a connection code.
 */
export async function runTransaction(
  call: (args: readonly string[]) => Promise<unknown>,
  transaction: EncodedTransaction,
): Promise<void> {
  try {
    await call(transaction.args);
  } catch (error) {
    throw toRegistryError(error, 'executeInTransaction', undefined, transaction.paths);
  }
}
