/**
 * The one place where `etcd3` / gRPC errors become {@link RegistryError}s (STYLE.md: each adapter
 * maps vendor errors in `to-registry-error.ts`).
 *
 * @module
 */
import { RegistryError, type RegistryErrorCode } from '@elasticjob-ts/core/adapter';
import {
  ClientClosedError,
  castGrpcError,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCUnauthenticatedError,
} from 'etcd3';

/** Messages etcd uses for authentication problems that gRPC reports as `INVALID_ARGUMENT`. */
const AUTH_MESSAGES = [
  'etcdserver: user name is empty',
  'etcdserver: user name not found',
  'etcdserver: authentication failed',
  'etcdserver: permission denied',
  'etcdserver: invalid auth token',
  'etcdserver: invalid auth management',
];

/** What etcd answers a Txn of more operations than its `--max-txn-ops` with (nothing is applied). */
export const TXN_TOO_MANY_OPERATIONS = 'too many operations in txn request';

/**
 * Classifies a vendor error.
 *
 * - authentication / permission errors → `NO_AUTH`;
 * - an expired or revoked lease (`requested lease not found`) → `SESSION_EXPIRED`;
 * - a call on a closed `etcd3` client → `NOT_STARTED`;
 * - everything else (unavailable, deadline exceeded, cancelled, stream ended, unknown) →
 *   `CONNECTION_LOSS`: the outcome of the operation is unknown.
 *
 * @param error - anything `etcd3` rejected with.
 * @returns the registry error code.
 */
export function registryErrorCodeOf(error: unknown): RegistryErrorCode {
  if (RegistryError.is(error)) return error.code;
  const cast = error instanceof Error ? castGrpcError(error) : undefined;
  if (
    cast instanceof EtcdPermissionDeniedError ||
    cast instanceof EtcdAuthenticationFailedError ||
    cast instanceof EtcdInvalidAuthTokenError ||
    cast instanceof GRPCUnauthenticatedError
  ) {
    return 'NO_AUTH';
  }
  const message = error instanceof Error ? error.message : String(error);
  if (AUTH_MESSAGES.some((text) => message.includes(text))) return 'NO_AUTH';
  if (cast instanceof EtcdLeaseInvalidError || message.includes('etcdserver: requested lease not found')) {
    return 'SESSION_EXPIRED';
  }
  if (cast instanceof ClientClosedError) return 'NOT_STARTED';
  // A transaction the server refuses outright (over --max-txn-ops, 128 by default) committed
  // nothing: a definite failure, not an unknown outcome.
  if (message.includes(TXN_TOO_MANY_OPERATIONS)) return 'TRANSACTION_FAILED';
  return 'CONNECTION_LOSS';
}

/**
 * Wraps a vendor error into a {@link RegistryError} (a `RegistryError` passes through unchanged).
 *
 * @param error - the vendor error.
 * @param operation - what was attempted, for the message, e.g. `persist`.
 * @param path - the registry path concerned, if any.
 * @returns the registry error, with the vendor error as `cause`.
 */
export function toRegistryError(error: unknown, operation: string, path?: string): RegistryError {
  if (RegistryError.is(error)) return error;
  const code = registryErrorCodeOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const where = path === undefined ? '' : ` '${path}'`;
  return new RegistryError(code, `etcd ${operation}${where} failed (${code}): ${detail}`, {
    path,
    cause: error,
  });
}
