/**
 * How `node-zookeeper-client` 1.1.3 creates the exception of an error answer, adapted without
 * editing the library. Both changes are process-wide and made once, by {@link adaptLibraryExceptions}.
 *
 * - **Unknown codes.** The library's `Exception.create` throws for an error code it does not know
 *   (e.g. `NOWATCHER`, -121, answered by `removeWatches`), from its socket handler, which would
 *   crash the process. Such a code now yields an exception carrying it, named from
 *   {@link NEWER_ERROR_NAMES} (or `UNKNOWN_ERROR`).
 * - **No stack trace.** The library captures a stack trace for every error answer, and expected
 *   answers are frequent: `NONODE` for an `exists` or `getData` on an absent node, `NODEEXISTS`
 *   for a create racing another instance. Created in the socket handler, that trace names only the
 *   library's internals, and the adapter maps every such exception to a `RegistryError` carrying
 *   the caller's own stack (the library exception becomes its `cause`). Capturing it was 5 % of a
 *   process's CPU while 1,000 jobs started. The exceptions are now created with an empty trace.
 *
 * @module
 */
import * as zookeeper from 'node-zookeeper-client';

/** Error code of `removeWatches` when the connection has no watch on the path. */
export const ZK_NO_WATCHER = -121;

/** Names of error codes newer than the library, for messages. */
const NEWER_ERROR_NAMES: Readonly<Record<number, string>> = {
  [-118]: 'SESSION_MOVED',
  [-119]: 'NOT_READONLY',
  [-120]: 'EPHEMERAL_ON_LOCAL_SESSION',
  [ZK_NO_WATCHER]: 'NO_WATCHER',
  [-122]: 'REQUEST_TIMEOUT',
  [-124]: 'THROTTLED_OP',
  [-125]: 'QUOTA_EXCEEDED',
};

/** The library's exception factory, as this module calls it. */
interface ExceptionFactory {
  create(code: number, path?: string): zookeeper.Exception;
  readonly SYSTEM_ERROR: number;
}

let adapted = false;

/**
 * Makes the library's `Exception.create` accept error codes it does not know and create its
 * exceptions without a stack trace (see the module). Idempotent; every `ZookeeperConnection`
 * calls it before it connects.
 */
export function adaptLibraryExceptions(): void {
  if (adapted) return;
  adapted = true;
  const exceptions = zookeeper.Exception as unknown as ExceptionFactory;
  const original = exceptions.create;
  const withoutTrace = (code: number, path: string | undefined): zookeeper.Exception => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return original(code, path);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  exceptions.create = (code: number, path?: string) => {
    try {
      return withoutTrace(code, path);
    } catch {
      const exception = withoutTrace(exceptions.SYSTEM_ERROR, path) as unknown as {
        code: number;
        name: string;
        message: string;
      };
      exception.code = code;
      exception.name = NEWER_ERROR_NAMES[code] ?? 'UNKNOWN_ERROR';
      exception.message = `Exception: ${exception.name}[${code}]${path ? `@${path}` : ''}`;
      return exception as unknown as zookeeper.Exception;
    }
  };
}
