/**
 * The one place where `node-zookeeper-client` errors become {@link RegistryError}s (STYLE.md: each
 * adapter maps vendor errors in `to-registry-error.ts`).
 *
 * @module
 */
import { RegistryError, type RegistryErrorCode } from '@elasticjob-ts/core/adapter';
import { Exception } from 'node-zookeeper-client';

/**
 * ZooKeeper's numeric error codes (`KeeperException.Code`), as `node-zookeeper-client` reports
 * them in `Exception#code` and in multi-op results.
 */
export const ZK_CODE = {
  OK: 0,
  SYSTEM_ERROR: -1,
  RUNTIME_INCONSISTENCY: -2,
  CONNECTION_LOSS: -4,
  OPERATION_TIMEOUT: -7,
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
  INVALID_ACL: -114,
  AUTH_FAILED: -115,
  SESSION_MOVED: -118,
} as const;

/**
 * The numeric ZooKeeper code of a vendor error, or `undefined` when `error` is not one.
 *
 * @param error - anything a client callback reported.
 */
export function zookeeperCodeOf(error: unknown): number | undefined {
  if (error instanceof Exception) return error.code;
  if (
    error !== null &&
    typeof error === 'object' &&
    typeof (error as { getCode?: unknown }).getCode === 'function'
  ) {
    const code = (error as { getCode(): unknown }).getCode();
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

/**
 * Classifies a ZooKeeper error code.
 *
 * | ZooKeeper | registry |
 * | --- | --- |
 * | `NONODE` | `NO_NODE` |
 * | `NODEEXISTS`, `NOTEMPTY` (a child appeared) | `NODE_EXISTS` |
 * | `CONNECTIONLOSS`, `OPERATIONTIMEOUT`, `SESSIONMOVED` | `CONNECTION_LOSS` (outcome unknown) |
 * | `SESSIONEXPIRED` | `SESSION_EXPIRED` |
 * | `NOAUTH`, `AUTHFAILED`, `INVALIDACL` | `NO_AUTH` |
 * | anything else (`BADVERSION`, `NOCHILDRENFOREPHEMERALS`, system errors) | `INVALID_STATE` |
 *
 * @param code - numeric ZooKeeper code.
 * @returns the registry error code.
 */
export function registryCodeOfZookeeperCode(code: number): RegistryErrorCode {
  switch (code) {
    case ZK_CODE.NO_NODE:
      return 'NO_NODE';
    case ZK_CODE.NODE_EXISTS:
    case ZK_CODE.NOT_EMPTY:
      return 'NODE_EXISTS';
    case ZK_CODE.CONNECTION_LOSS:
    case ZK_CODE.OPERATION_TIMEOUT:
    case ZK_CODE.SESSION_MOVED:
      return 'CONNECTION_LOSS';
    case ZK_CODE.SESSION_EXPIRED:
      return 'SESSION_EXPIRED';
    case ZK_CODE.NO_AUTH:
    case ZK_CODE.AUTH_FAILED:
    case ZK_CODE.INVALID_ACL:
      return 'NO_AUTH';
    default:
      return 'INVALID_STATE';
  }
}

/**
 * Converts whatever `node-zookeeper-client` reported into a {@link RegistryError}; a
 * `RegistryError` passes through unchanged.
 *
 * @param error - the vendor error (an `Exception`), a `RegistryError`, or anything else.
 * @param operation - what was attempted, for the message, e.g. `getData`.
 * @param path - the namespace-relative key the operation concerned.
 * @returns the registry error, with the vendor error as `cause`.
 */
export function toRegistryError(error: unknown, operation: string, path?: string): RegistryError {
  if (error instanceof RegistryError) return error;
  const zkCode = zookeeperCodeOf(error);
  const code: RegistryErrorCode =
    zkCode === undefined ? 'INVALID_STATE' : registryCodeOfZookeeperCode(zkCode);
  const vendor = error instanceof Error || error instanceof Exception ? String(error) : JSON.stringify(error);
  const where = path === undefined ? '' : ` on '${path}'`;
  return new RegistryError(code, `ZooKeeper ${operation}${where} failed: ${vendor}`, { path, cause: error });
}

/**
 * The registry error for a ZooKeeper code without a vendor error object (e.g. one result of a
 * multi-op).
 *
 * @param code - numeric ZooKeeper code.
 * @param operation - what was attempted.
 * @param path - the namespace-relative key.
 */
export function registryErrorOfCode(code: number, operation: string, path?: string): RegistryError {
  let name = `code ${code}`;
  try {
    const create = (Exception as unknown as { create(code: number): Exception }).create;
    name = `${create(code).getName()}[${code}]`;
  } catch {
    // a code this client library does not know: keep the number
  }
  const where = path === undefined ? '' : ` on '${path}'`;
  return new RegistryError(
    registryCodeOfZookeeperCode(code),
    `ZooKeeper ${operation}${where} failed: ${name}`,
    {
      path,
    },
  );
}
