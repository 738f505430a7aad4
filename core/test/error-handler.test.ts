import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobConfigurationError } from '../src/config/job-configuration-error.js';
import {
  createJobErrorHandler,
  JobSystemError,
  jobErrorHandlerTypes,
  registerJobErrorHandler,
  WebhookJobErrorHandler,
} from '../src/error-handler/index.js';
import type { Logger } from '../src/logging/logger.js';

interface LogEntry {
  readonly level: string;
  readonly context: object | undefined;
  readonly message: string | undefined;
}

function recordingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const method =
    (level: string) =>
    (first: string | object, message?: string): void => {
      entries.push(
        typeof first === 'string'
          ? { level, context: undefined, message: first }
          : { level, context: first, message },
      );
    };
  const logger: Logger = {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: () => logger,
  };
  return { logger, entries };
}

describe('built-in error handlers', () => {
  it('LOG logs the error with ElasticJob’s message', () => {
    const { logger, entries } = recordingLogger();
    const handler = createJobErrorHandler('LOG', {}, logger);
    const error = new Error('boom');
    expect(handler.type).toBe('LOG');
    handler.handleException('orders', error);
    expect(entries).toEqual([
      {
        level: 'error',
        context: { err: error, jobName: 'orders' },
        message: "Job 'orders' exception occur in job processing",
      },
    ]);
  });

  it('THROW rethrows wrapped in a JobSystemError with the cause', () => {
    const handler = createJobErrorHandler('THROW', {}, recordingLogger().logger);
    const error = new RangeError('bad item');
    expect(handler.type).toBe('THROW');
    let thrown: unknown;
    try {
      handler.handleException('orders', error);
    } catch (caught) {
      thrown = caught;
    }
    expect(thrown).toBeInstanceOf(JobSystemError);
    expect(thrown).toMatchObject({
      code: 'JOB_ERROR_RETHROWN',
      cause: error,
      message: "Job 'orders' exception occur in job processing: bad item",
    });
    expect(JobSystemError.is(thrown, 'JOB_ERROR_RETHROWN')).toBe(true);
    expect(JobSystemError.is(thrown, 'ITEM_FAILED')).toBe(false);
  });

  it('IGNORE does nothing', () => {
    const { logger, entries } = recordingLogger();
    const handler = createJobErrorHandler('IGNORE', {}, logger);
    expect(handler.type).toBe('IGNORE');
    expect(() => handler.handleException('orders', new Error('x'))).not.toThrow();
    expect(entries).toEqual([]);
  });
});

describe('error handler registry', () => {
  it('rejects an unknown type naming jobErrorHandlerType and the accepted types', () => {
    const create = () => createJobErrorHandler('EMAIL', {}, recordingLogger().logger);
    expect(create).toThrow(JobConfigurationError);
    expect(create).toThrow(
      "jobErrorHandlerType 'EMAIL' is not registered; accepted: LOG, THROW, IGNORE, WEBHOOK",
    );
    expect(create).toThrow(expect.objectContaining({ field: 'jobErrorHandlerType' }));
  });

  it('registers custom handlers with their props and logger', () => {
    const { logger } = recordingLogger();
    const seen: unknown[] = [];
    const unregister = registerJobErrorHandler('COLLECT', (props, handlerLogger) => {
      expect(handlerLogger).toBe(logger);
      return {
        type: 'COLLECT',
        handleException: (jobName, error) => void seen.push([props.tag, jobName, error]),
      };
    });
    try {
      expect(jobErrorHandlerTypes()).toEqual(['LOG', 'THROW', 'IGNORE', 'WEBHOOK', 'COLLECT']);
      createJobErrorHandler('COLLECT', { tag: 't1' }, logger).handleException('orders', 'oops');
      expect(seen).toEqual([['t1', 'orders', 'oops']]);
      expect(() => registerJobErrorHandler('COLLECT', () => ({ type: 'x', handleException() {} }))).toThrow(
        TypeError,
      );
      expect(() => registerJobErrorHandler('LOG', () => ({ type: 'x', handleException() {} }))).toThrow(
        /'LOG' is already registered/,
      );
    } finally {
      unregister();
    }
    expect(jobErrorHandlerTypes()).not.toContain('COLLECT');
  });
});

describe('WEBHOOK error handler', () => {
  interface Received {
    readonly method: string;
    readonly headers: IncomingHttpHeaders;
    readonly body: string;
  }
  let server: Server;
  let base: string;
  let received: Received[];
  let stalled: Promise<void>;
  let markStalled: () => void;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          method: request.method ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (request.url === '/fail') response.writeHead(500).end('down');
        else if (request.url === '/stall') markStalled();
        else response.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  beforeEach(() => {
    received = [];
    stalled = new Promise((resolve) => {
      markStalled = resolve;
    });
  });

  it('POSTs {jobName, message, stack} as JSON', async () => {
    const { logger, entries } = recordingLogger();
    const handler = createJobErrorHandler('WEBHOOK', { 'webhook.url': `${base}/hook` }, logger);
    expect(handler).toBeInstanceOf(WebhookJobErrorHandler);
    const error = new Error('disk full');
    await handler.handleException('orders', error);
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('POST');
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({
      jobName: 'orders',
      message: "Job 'orders' exception occur in job processing, caused by disk full",
      stack: error.stack,
    });
    expect(entries).toEqual([]);
  });

  it('only logs a failed delivery: error status, refused connection, timeout', async () => {
    const { logger, entries } = recordingLogger();
    await createJobErrorHandler('WEBHOOK', { 'webhook.url': `${base}/fail` }, logger).handleException(
      'a',
      'text',
    );
    expect(JSON.parse(received[0]?.body ?? '')).toMatchObject({ stack: 'text' });
    expect(entries).toEqual([
      expect.objectContaining({
        level: 'error',
        message: "Job 'a' error webhook answered HTTP 500",
        context: expect.objectContaining({ status: 500, body: 'down' }),
      }),
    ]);

    const idle = createServer().listen(0, '127.0.0.1');
    await once(idle, 'listening');
    const { port } = idle.address() as AddressInfo;
    idle.close();
    await once(idle, 'close');
    await createJobErrorHandler(
      'WEBHOOK',
      { 'webhook.url': `http://127.0.0.1:${port}/` },
      logger,
    ).handleException('b', new Error('x'));
    expect(entries[1]).toMatchObject({ level: 'error', message: "Job 'b' error webhook delivery failed" });

    await createJobErrorHandler(
      'WEBHOOK',
      {
        'webhook.url': `${base}/stall`,
        'webhook.connect.timeout.milliseconds': '20',
        'webhook.read.timeout.milliseconds': '30',
      },
      logger,
    ).handleException('c', new Error('x'));
    expect(entries[2]).toMatchObject({
      message: "Job 'c' error webhook delivery failed",
      context: { err: expect.objectContaining({ message: expect.stringMatching(/timed out after 50 ms/) }) },
    });
  });

  it('close() aborts deliveries in flight', async () => {
    const { logger, entries } = recordingLogger();
    const handler = createJobErrorHandler('WEBHOOK', { 'webhook.url': `${base}/stall` }, logger);
    const delivery = handler.handleException('orders', new Error('x'));
    await stalled;
    await handler.close?.();
    await expect(delivery).resolves.toBeUndefined();
    expect(entries).toEqual([
      expect.objectContaining({ message: "Job 'orders' error webhook delivery failed" }),
    ]);
  });

  it.each([
    [{}, 'webhook.url', /prop 'webhook\.url' is required \(jobErrorHandlerType 'WEBHOOK'\)/],
    [{ 'webhook.url': 'mailto:ops@example.com' }, 'webhook.url', /must be an http: or https: URL/],
    [{ 'webhook.url': 'not a url' }, 'webhook.url', /must be an http: or https: URL/],
    [
      { 'webhook.url': 'http://x/', 'webhook.read.timeout.milliseconds': '-5' },
      'webhook.read.timeout.milliseconds',
      /must be a positive integer, got '-5'/,
    ],
  ])('rejects props %j naming %s', (props, field, message) => {
    const create = () => createJobErrorHandler('WEBHOOK', props, recordingLogger().logger);
    expect(create).toThrow(message);
    expect(create).toThrow(JobConfigurationError);
    expect(create).toThrow(expect.objectContaining({ field: `props.${field}` }));
  });

  it('uses ElasticJob’s default timeouts', () => {
    const handler = new WebhookJobErrorHandler(
      { 'webhook.url': 'https://alerts.example.com/x' },
      recordingLogger().logger,
    );
    expect(handler).toMatchObject({
      connectTimeoutMs: 3000,
      readTimeoutMs: 5000,
      url: 'https://alerts.example.com/x',
    });
  });
});
