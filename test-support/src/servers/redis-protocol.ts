/**
 * A minimal Redis client for the harness itself (readiness probes, `INFO`, `SENTINEL`, `WAIT`):
 * one command per connection, plain TCP or TLS, RESP2 replies parsed into plain values. The
 * harness depends on no Redis client library, so that every package may use it.
 *
 * @module
 */
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A parsed RESP2 reply: simple and bulk strings, integers, nil, arrays of those. */
export type RedisReply = string | number | null | RedisReply[];

/** Where {@link sendRedisCommand} connects. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  /** TLS with this CA (PEM); plain TCP when absent. */
  readonly tlsCa?: string;
}

/** An error reply of the server (`-ERR ...`), with the server's message. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

/** Encodes a command as a RESP array of bulk strings. */
function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Parses one RESP2 value from `buffer` at `offset`.
 *
 * @returns the value (an error reply as {@link RedisReplyError}) and the offset after it, or
 *   `undefined` when the buffer does not hold the whole value yet.
 */
function parseReply(
  buffer: Buffer,
  offset: number,
): { value: RedisReply | RedisReplyError; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] as number);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: afterLine };
    case '-':
      return { value: new RedisReplyError(line), next: afterLine };
    case ':':
      return { value: Number(line), next: afterLine };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buffer.length < afterLine + length + 2) return undefined;
      return { value: buffer.toString('utf8', afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RedisReply[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, next);
        if (item === undefined) return undefined;
        if (item.value instanceof RedisReplyError) return item;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP reply type '${type}' in: ${JSON.stringify(line)}`);
  }
}

/**
 * Sends one command on a fresh connection and returns the server's reply.
 *
 * @param endpoint - host, port and, for TLS, the CA.
 * @param args - the command and its arguments, e.g. `['SENTINEL', 'masters']`.
 * @param timeoutMs - bound of the whole exchange (connect, TLS handshake, reply), in ms.
 * @returns the parsed reply.
 * @throws {RedisReplyError} for an error reply; {@link Error} for a connection failure or when no
 *   reply came within `timeoutMs`.
 */
export function sendRedisCommand(
  endpoint: RedisEndpoint,
  args: readonly string[],
  timeoutMs = 2_000,
): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const socket =
      endpoint.tlsCa === undefined
        ? tcpConnect({ host: endpoint.host, port: endpoint.port })
        : tlsConnect({ host: endpoint.host, port: endpoint.port, ca: endpoint.tlsCa });
    const where = `${endpoint.host}:${endpoint.port}`;
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, value?: RedisReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(value as RedisReply);
      else reject(error);
    };
    const timer = setTimeout(
      () => finish(new Error(`${args[0]} on ${where}: no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once(endpoint.tlsCa === undefined ? 'connect' : 'secureConnect', () => {
      socket.write(encodeCommand(args));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(received, 0);
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (parsed === undefined) return;
      if (parsed.value instanceof RedisReplyError) finish(parsed.value);
      else finish(undefined, parsed.value);
    });
    socket.on('error', (error) =>
      finish(new Error(`${args[0]} on ${where}: ${error.message}`, { cause: error })),
    );
    socket.on('close', () => finish(new Error(`${args[0]} on ${where}: connection closed before a reply`)));
  });
}

/**
 * Parses an `INFO` reply (`field:value` lines) into a map.
 *
 * @param info - the bulk string `INFO` returned.
 */
export function parseRedisInfo(info: RedisReply): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of String(info).split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * Turns a flat `[field, value, field, value, ...]` reply (`SENTINEL master`, `SENTINEL replicas`
 * entries) into a map.
 *
 * @param reply - the array reply.
 */
export function pairsToMap(reply: RedisReply): Map<string, string> {
  const fields = new Map<string, string>();
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
  return fields;
}
