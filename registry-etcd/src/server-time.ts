/**
 * The registry server's clock. etcd's gRPC API has no clock; every answer of its HTTP gateway
 * carries a `Date` header (RFC 7231, 1 s resolution), read here from `GET /version`.
 *
 * @module
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type EtcdTlsConfiguration, RegistryError } from '@elasticjob-ts/core/adapter';

function dateOf(endpoint: string, tls: EtcdTlsConfiguration | undefined, timeoutMs: number): Promise<number> {
  const url = `${endpoint}/version`;
  const secure = endpoint.startsWith('https:');
  return new Promise((resolve, reject) => {
    const options = { method: 'GET', agent: false as const, timeout: timeoutMs };
    const callback = (res: import('node:http').IncomingMessage) => {
      res.resume();
      const header = res.headers.date;
      const time = header === undefined ? Number.NaN : Date.parse(header);
      if (Number.isNaN(time))
        reject(new Error(`GET ${url} answered without a valid Date header (${header})`));
      else resolve(time);
    };
    const req = secure
      ? httpsRequest(url, { ...options, ca: tls?.ca, cert: tls?.cert, key: tls?.key }, callback)
      : httpRequest(url, options, callback);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Reads the server clock from the first endpoint that answers.
 *
 * @param endpoints - client URLs.
 * @param tls - TLS material for `https://` endpoints.
 * @param timeoutMs - bound per endpoint, in ms.
 * @returns the server time in epoch ms (a whole second).
 * @throws {RegistryError} `CONNECTION_LOSS` when no endpoint answers with a `Date` header.
 */
export async function readServerTime(
  endpoints: readonly string[],
  tls: EtcdTlsConfiguration | undefined,
  timeoutMs: number,
): Promise<number> {
  let lastError: unknown;
  for (const endpoint of endpoints) {
    try {
      return await dateOf(endpoint, tls, timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw new RegistryError(
    'CONNECTION_LOSS',
    `Could not read the etcd server time from ${endpoints.join(', ')}: ${(lastError as Error)?.message}`,
    { cause: lastError },
  );
}
