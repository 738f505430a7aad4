/**
 * {@link startMonitoringServer}: a small HTTP listener for Prometheus and orchestrators:
 * `GET /metrics` (Prometheus text format), `GET /healthz` (the process serves) and `GET /readyz`
 * (registry session up and jobs registered). Loopback by default; any other address requires a
 * bearer token.
 *
 * Built on `node:http`: three fixed read-only routes need no router, body parsing or middleware,
 * and the listener stays free of dependencies an application might clash with.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ElasticJobMetrics } from './elasticjob-metrics.js';

/** Options of {@link startMonitoringServer}. */
export interface MonitoringServerOptions {
  /** The metrics to serve. */
  readonly metrics: ElasticJobMetrics;
  /** TCP port; `0` picks a free one (read it from `port` of the result). @defaultValue 9464 */
  readonly port?: number;
  /** Address to bind. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /**
   * Required bearer token (`Authorization: Bearer <token>`) on every route. Mandatory when `host`
   * is not a loopback address.
   */
  readonly bearerToken?: string;
  /** An extra readiness condition (e.g. the app's own), ANDed with the metrics' readiness. */
  readonly ready?: () => boolean;
}

/** A running monitoring server. */
export interface MonitoringServer {
  /** The bound port. */
  readonly port: number;
  /** The bound address. */
  readonly host: string;
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/** Refused monitoring server options; the message names the field and the accepted values. */
export class MonitoringServerOptionsError extends Error {
  override readonly name = 'MonitoringServerOptionsError';

  /**
   * @param field - the option at fault (`port`, or `host` for a non-loopback address without a token).
   * @param message - what is wrong and what is accepted.
   */
  constructor(
    readonly field: 'port' | 'host',
    message: string,
  ) {
    super(message);
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Starts the monitoring listener.
 *
 * @param options - see {@link MonitoringServerOptions}.
 * @returns the running server.
 * @throws {MonitoringServerOptionsError} for a non-loopback `host` without `bearerToken`, or a bad `port`.
 * @throws the listen error (e.g. `EADDRINUSE`).
 */
export async function startMonitoringServer(options: MonitoringServerOptions): Promise<MonitoringServer> {
  const { host, port } = validateMonitoringServerOptions(options);
  const server = createServer((req, res) => {
    void handle(req, res, options).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`metrics collection failed: ${(error as Error).message}\n`);
    });
  });
  await listen(server, port, host);
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    port: bound,
    host,
    url: `http://${urlHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Checks the address options of {@link startMonitoringServer} without binding anything (a jobs
 * file's `monitoring:` section is checked with it before anything starts).
 *
 * @param options - `port`, `host` and `bearerToken` as {@link MonitoringServerOptions} takes them.
 * @returns the address to bind, defaults applied (`127.0.0.1`, port 9464).
 * @throws {MonitoringServerOptionsError} for a `port` that is not an integer from 0 to 65535, or a
 *   non-loopback `host` without `bearerToken`.
 */
export function validateMonitoringServerOptions(
  options: Pick<MonitoringServerOptions, 'port' | 'host' | 'bearerToken'>,
): { readonly host: string; readonly port: number } {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new MonitoringServerOptionsError(
      'port',
      `port must be an integer from 0 to 65535, got ${String(port)}`,
    );
  }
  if (!LOOPBACK.test(host) && (options.bearerToken === undefined || options.bearerToken === '')) {
    throw new MonitoringServerOptionsError(
      'host',
      `host '${host}' is not a loopback address: set bearerToken to serve metrics beyond this machine, or bind 127.0.0.1`,
    );
  }
  return { host, port };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: MonitoringServerOptions,
): Promise<void> {
  if (options.bearerToken !== undefined && !authorized(req.headers.authorization, options.bearerToken)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
    res.end('unauthorized\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
    res.end('method not allowed\n');
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/metrics') {
    const body = await options.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': options.metrics.registry.contentType });
    res.end(body);
  } else if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  } else if (path === '/readyz') {
    const ready = options.metrics.isReady() && (options.ready?.() ?? true);
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ready ? 'ready\n' : 'not ready: registry session down or no job registered\n');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: GET /metrics, /healthz or /readyz\n');
  }
}

function authorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
