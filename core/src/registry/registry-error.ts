/**
 * Stable error codes of {@link RegistryError}. Codes are public API; messages are not.
 *
 * | code | meaning |
 * | --- | --- |
 * | `NO_NODE` | The node an operation needs does not exist (`update` of an absent node, a transaction `check`/`update`/`delete` of an absent node, a create whose parent is absent). |
 * | `VALUE_MISMATCH` | A transaction `check` with a `value` found the node present with another value. |
 * | `NODE_EXISTS` | The node an operation creates already exists. |
 * | `NOT_STARTED` | The client was used before `start()` resolved or after `close()`. |
 * | `CONNECTION_LOSS` | The server could not be reached; the operation may or may not have been applied. |
 * | `SESSION_EXPIRED` | The client's session ended; its ephemeral nodes are gone. |
 * | `TRANSACTION_FAILED` | `executeInTransaction` committed nothing; see `failedOperationIndex` and `cause`. |
 * | `TIMEOUT` | A bounded wait (connect, latch acquisition) ran out. |
 * | `NO_AUTH` | The server refused the operation for lack of credentials or permissions. |
 * | `NOT_SUPPORTED` | The adapter does not implement an optional capability. |
 * | `INVALID_STATE` | The operation conflicts with the client's state (e.g. `start()` twice). |
 */
export type RegistryErrorCode =
  | 'NO_NODE'
  | 'VALUE_MISMATCH'
  | 'NODE_EXISTS'
  | 'NOT_STARTED'
  | 'CONNECTION_LOSS'
  | 'SESSION_EXPIRED'
  | 'TRANSACTION_FAILED'
  | 'TIMEOUT'
  | 'NO_AUTH'
  | 'NOT_SUPPORTED'
  | 'INVALID_STATE';

/** Every {@link RegistryErrorCode}, for validation and exhaustive tests. */
export const REGISTRY_ERROR_CODES: readonly RegistryErrorCode[] = [
  'NO_NODE',
  'VALUE_MISMATCH',
  'NODE_EXISTS',
  'NOT_STARTED',
  'CONNECTION_LOSS',
  'SESSION_EXPIRED',
  'TRANSACTION_FAILED',
  'TIMEOUT',
  'NO_AUTH',
  'NOT_SUPPORTED',
  'INVALID_STATE',
];

/** Options of the {@link RegistryError} constructor. */
export interface RegistryErrorOptions {
  /** The registry path the failed operation concerned, relative to the namespace. */
  readonly path?: string;
  /** The vendor error or nested {@link RegistryError} that caused this one. */
  readonly cause?: unknown;
  /** For `TRANSACTION_FAILED`: the 0-based index of the operation that failed, when known. */
  readonly failedOperationIndex?: number;
}

/**
 * The one error type every {@link CoordinatorRegistryCenter} method rejects with.
 *
 * Adapters map vendor errors to a stable {@link RegistryErrorCode} in one place; callers branch on
 * `code`, never on `message`. Unlike ElasticJob's `RegExceptionHandler`, nothing is swallowed: a
 * caller that tolerates a missing node says so explicitly (for example by catching `NO_NODE`).
 *
 * @example
 * ```ts
 * try {
 *   await registry.update('/orders/config', yaml);
 * } catch (error) {
 *   if (RegistryError.is(error, 'NO_NODE')) { ... }
 *   throw error;
 * }
 * ```
 */
export class RegistryError extends Error {
  /** Stable machine-readable code. */
  readonly code: RegistryErrorCode;
  /** The path the failed operation concerned, relative to the namespace, if any. */
  readonly path: string | undefined;
  /** For `TRANSACTION_FAILED`: index of the failing operation in the submitted list, if known. */
  readonly failedOperationIndex: number | undefined;

  /**
   * @param code - stable error code.
   * @param message - human-readable description; include the path and what was attempted.
   * @param options - path, cause and failing transaction operation index.
   */
  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.path = options.path;
    this.failedOperationIndex = options.failedOperationIndex;
  }

  /**
   * Type guard: whether `error` is a {@link RegistryError}, optionally with one of `codes`.
   *
   * @param error - any thrown value.
   * @param codes - codes to match; none means any code.
   * @returns `true` when `error` is a `RegistryError` whose code is among `codes` (or any code).
   */
  static is(error: unknown, ...codes: RegistryErrorCode[]): error is RegistryError {
    return error instanceof RegistryError && (codes.length === 0 || codes.includes(error.code));
  }
}
