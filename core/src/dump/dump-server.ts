/**
 * The dump TCP server ({@link startDumpServer}) and client ({@link dumpJob}), speaking ElasticJob's
 * snapshot protocol (reference §5.21).
 *
 * @module
 */
import { connect, createServer, type Socket } from 'node:net';
import { JobNotFoundError } from '../lifecycle/lifecycle-errors.js';
import { assertJobNameArgument } from '../lifecycle/lifecycle-registry.js';
import { createDefaultLogger, type Logger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { JobDumpService } from './job-dump-service.js';

/** The request prefix of ElasticJob's dump protocol: a line `dump@{jobName}`. */
export const DUMP_COMMAND_PREFIX = 'dump@';

/** Longest request line accepted, in bytes; longer input closes the connection. */
const MAX_REQUEST_BYTES = 4096;

/** Options of {@link startDumpServer}. */
export interface DumpServerOptions {
  /** A started registry client of the jobs' namespace (not closed by the server). */
  readonly registry: CoordinatorRegistryCenter;
  /** TCP port; `0` picks a free one (read it from {@link DumpServer.port}). ElasticJob's docs use 9888. */
  readonly port: number;
  /**
   * Address to bind. The dump has no authentication, so the default is loopback only (ElasticJob
   * binds every interface); pass `'0.0.0.0'` or `'::'` deliberately.
   * @defaultValue '127.0.0.1'
   */
  readonly host?: string;
  /**
   * How long a connection may stay without a complete request, in ms, before it is closed.
   * @defaultValue 10000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Receives registry errors met while dumping (the connection is then reset, so the client sees a
   * failure, not an empty dump).
   * @defaultValue logs the error with a default pino logger
   */
  readonly onError?: (error: unknown, jobName: string) => void;
  /** Logger for the default `onError`. @defaultValue a pino logger named `elasticjob` */
  readonly logger?: Logger;
}

/** A running dump server. */
export interface DumpServer {
  /** The bound address. */
  readonly host: string;
  /** The bound port (the assigned one when `port: 0` was asked). */
  readonly port: number;
  /**
   * Stops listening, resets open connections, waits for dumps in progress to settle. Leaves no
   * socket or timer behind. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts an opt-in dump server speaking ElasticJob's protocol (`SnapshotService`): a client sends
 * the line `dump@{jobName}`, the server answers with {@link JobDumpService.dump} of that job (IPs
 * always masked) and closes the connection. Lines that are not dump commands are ignored, as
 * ElasticJob does; an unknown job or an invalid job name gets an empty answer. Works with
 * `echo "dump@orders" | nc 127.0.0.1 9888` and ElasticJob's console dump button.
 *
 * Not started by any bootstrap. Bound to loopback by default: the dump has no authentication.
 *
 * @param options - registry, port, host and bounds.
 * @returns the running server, once it listens.
 * @throws {TypeError} naming `port`, `host` or `requestTimeoutMs` when invalid.
 * @throws {Error} the listen error (e.g. `EADDRINUSE`) when the port cannot be bound.
 *
 * @example
 * ```ts
 * const server = await startDumpServer({ registry, port: 9888 });
 * // $ echo "dump@orders" | nc 127.0.0.1 9888
 * await server.close();
 * ```
 */
export async function startDumpServer(options: DumpServerOptions): Promise<DumpServer> {
  const { registry, port } = options;
  const host = options.host ?? '127.0.0.1';
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`port must be an integer from 0 to 65535 (0 = any free port), got ${String(port)}`);
  }
  if (typeof host !== 'string' || host === '') {
    throw new TypeError(`host must be a non-empty address string such as '127.0.0.1', got ${String(host)}`);
  }
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new TypeError(`requestTimeoutMs must be a positive number of ms, got ${String(requestTimeoutMs)}`);
  }
  let logger = options.logger;
  const onError =
    options.onError ??
    ((error: unknown, jobName: string) => {
      logger ??= createDefaultLogger();
      logger.error({ err: error, jobName }, 'dump failed');
    });
  const service = new JobDumpService(registry);
  const sockets = new Set<Socket>();
  const inFlight = new Set<Promise<void>>();

  const respond = async (socket: Socket, jobName: string): Promise<void> => {
    let text = '';
    try {
      assertJobNameArgument(jobName);
      text = await service.dump(jobName);
    } catch (error) {
      if (!(error instanceof TypeError) && !(error instanceof JobNotFoundError)) {
        onError(error, jobName);
        socket.resetAndDestroy(); // an RST, so the client sees a failure rather than an empty dump
        return;
      }
    }
    if (!socket.destroyed) socket.end(text);
  };

  // Half-open: `echo dump@x | nc host port` closes its sending side before the answer is written.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy()); // client-side resets: nothing to report
    socket.setTimeout(requestTimeoutMs, () => socket.destroy());
    socket.setEncoding('utf8');
    let buffer = '';
    let handled = false;
    /** Handles one request line; returns whether it was the dump command (the connection's only one). */
    const handleLine = (raw: string): boolean => {
      const line = raw.replace(/\r$/, '');
      if (!line.startsWith(DUMP_COMMAND_PREFIX)) return false; // ElasticJob ignores other lines
      handled = true;
      socket.setTimeout(0);
      const parts = line.split('@');
      if (parts.length !== 2) {
        socket.end();
        return true;
      }
      const work = respond(socket, parts[1] as string);
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
      return true;
    };
    socket.on('data', (chunk: string) => {
      if (handled) return;
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (handleLine(line)) return;
        newline = buffer.indexOf('\n');
      }
      if (Buffer.byteLength(buffer) > MAX_REQUEST_BYTES) socket.destroy();
    });
    socket.on('end', () => {
      // A last line without line end counts (like Java's readLine); otherwise answer nothing.
      if (!handled && !handleLine(buffer)) socket.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onListenError = (error: Error) => reject(error);
    server.once('error', onListenError);
    server.listen({ port, host }, () => {
      server.off('error', onListenError);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;

  let closing: Promise<void> | undefined;
  return {
    host,
    port: boundPort,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await Promise.allSettled([...inFlight]);
        await closed;
      })();
      return closing;
    },
  };
}

/** Options of {@link dumpJob}. */
export interface DumpJobOptions {
  /** Dump server address. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Dump server port. */
  readonly port: number;
  /** The job to dump. */
  readonly jobName: string;
  /**
   * Bound of the whole exchange, in ms.
   * @defaultValue 10000
   */
  readonly timeoutMs?: number;
}

/**
 * Asks a dump server (this library's or ElasticJob's) for the dump of a job: sends
 * `dump@{jobName}` and reads until the server closes (ElasticJob `SnapshotService.dumpJob` /
 * `JobOperateAPI.dump`).
 *
 * @param options - server address, job, bound.
 * @returns the dump text (`''` for an unknown job).
 * @throws {TypeError} naming `jobName` or `port` when invalid.
 * @throws {Error} on connection errors, a reset by the server, or after `timeoutMs`.
 */
export function dumpJob(options: DumpJobOptions): Promise<string> {
  const { port, jobName } = options;
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 10_000;
  assertJobNameArgument(jobName);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TypeError(`port must be an integer from 1 to 65535, got ${String(port)}`);
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host, port });
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`dump of job '${jobName}' from ${host}:${port} timed out after ${timeoutMs} ms`)),
    );
    socket.on('connect', () => socket.write(`${DUMP_COMMAND_PREFIX}${jobName}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => fail(error));
    socket.on('end', () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
