/**
 * The one place where ioredis and Redis errors become {@link RegistryError}s, including the
 * `EJ ...` error replies of the adapter's own Lua scripts.
 *
 * @module
 */
import { RegistryError, type RegistryErrorCode } from '@elasticjob-ts/core/adapter';

/** Prefix of the error replies the scripts return (`EJ NO_NODE`, `EJ TX 2 NODE_EXISTS`, ...). */
const SCRIPT_ERROR = /^EJ (?:TX (\d+) )?([A-Z_]+)/;
const AUTH_ERROR = /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid username-password pair|Authentication required/;

/**
 * Classifies an error.
 *
 * - a script's `EJ {code}` reply → that code (`NO_NODE`, `SESSION_EXPIRED`);
 * - `NOAUTH`, `WRONGPASS`, `NOPERM` → `NO_AUTH`;
 * - everything else (closed or unwritable connection, command timeout, `READONLY` after a
 *   failover, `LOADING`, unknown replies) → `CONNECTION_LOSS`: the outcome is unknown.
 *
 * @param error - anything ioredis rejected with.
 * @returns the registry error code.
 */
export function registryErrorCodeOf(error: unknown): RegistryErrorCode {
  if (RegistryError.is(error)) return error.code;
  const message = error instanceof Error ? error.message : String(error);
  const scripted = SCRIPT_ERROR.exec(message);
  if (scripted !== null)
    return scripted[1] === undefined ? (scripted[2] as RegistryErrorCode) : 'TRANSACTION_FAILED';
  if (AUTH_ERROR.test(message)) return 'NO_AUTH';
  return 'CONNECTION_LOSS';
}

/**
 * Wraps an error into a {@link RegistryError} (a `RegistryError` passes through unchanged). A
 * transaction failure reply (`EJ TX {index} {code}`) becomes `TRANSACTION_FAILED` with
 * `failedOperationIndex`, the failing operation's path and a `cause` carrying `{code}`.
 *
 * @param error - the vendor error.
 * @param operation - what was attempted, for the message, e.g. `persist`.
 * @param path - the registry path concerned, if any.
 * @param operationPaths - for transactions: the path of each operation.
 * @returns the registry error, with the vendor error as `cause`.
 */
export function toRegistryError(
  error: unknown,
  operation: string,
  path?: string,
  operationPaths?: readonly string[],
): RegistryError {
  if (RegistryError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const scripted = SCRIPT_ERROR.exec(message);
  if (scripted?.[1] !== undefined) {
    const index = Number(scripted[1]);
    const failedPath = operationPaths?.[index];
    const causeCode = scripted[2] as RegistryErrorCode;
    const cause = new RegistryError(
      causeCode,
      `Transaction operation ${index} on '${failedPath}': ${causeCode}`,
      {
        path: failedPath,
        cause: error,
      },
    );
    return new RegistryError(
      'TRANSACTION_FAILED',
      `Redis transaction failed at operation ${index} ('${failedPath}'): ${causeCode}; nothing was committed`,
      { path: failedPath, cause, failedOperationIndex: index },
    );
  }
  const code = registryErrorCodeOf(error);
  const where = path === undefined ? '' : ` '${path}'`;
  return new RegistryError(code, `Redis ${operation}${where} failed (${code}): ${message}`, {
    path,
    cause: error,
  });
}
