import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedJobConfiguration } from '../src/config/job-configuration.js';
import { JobSystemError } from '../src/error-handler/index.js';
import { resolveJobItemExecutor } from '../src/executor/index.js';
import type { JobRuntime } from '../src/job/elastic-job.js';
import type { ShardingContext } from '../src/job/sharding-context.js';
import { jobConfigurationWith } from './support/job-fixtures.js';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let server: Server;
let base: string;
let received: Received[];
/** Resolves when the server got a request on a stalling path. */
let stalled: Promise<void>;
let markStalled: () => void;

function resetStalled(): void {
  stalled = new Promise((resolve) => {
    markStalled = resolve;
  });
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = request.url ?? '/';
      received.push({
        method: request.method ?? '',
        url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const status = /^\/status\/(\d+)$/.exec(url);
      if (status) {
        response.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end(`answer ${status[1]}`);
      } else if (url === '/stall-headers') {
        markStalled();
      } else if (url === '/stall-body') {
        response.writeHead(200).write('partial');
        markStalled();
      } else {
        response.writeHead(200).end('ok');
      }
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
  resetStalled();
});

function configOf(props: Record<string, string>): ResolvedJobConfiguration {
  return jobConfigurationWith(props);
}

const context: Omit<ShardingContext, 'signal'> = {
  fencingToken: 1,
  jobName: 'notifier',
  taskId: 'notifier@-@0,1@-@READY@-@10.0.0.1@-@42',
  shardingTotalCount: 2,
  jobParameter: '上海 café',
  shardingItem: 0,
  shardingParameter: undefined,
};

async function call(props: Record<string, string>, signal = new AbortController().signal): Promise<void> {
  const config = configOf(props);
  const runtime: JobRuntime = { configuration: config, isNeedSharding: async () => false };
  const { executor } = resolveJobItemExecutor('HTTP', config);
  await executor.process({ ...context, signal }, runtime);
}

describe('HTTP job', () => {
  it('sends the sharding context in the shardingContext header', async () => {
    await call({ 'http.uri': `${base}/run?x=1`, 'http.method': 'get' });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request).toMatchObject({ method: 'GET', url: '/run?x=1', body: '' });
    expect(JSON.parse(String(request?.headers.shardingcontext))).toEqual({
      jobName: 'notifier',
      taskId: 'notifier@-@0,1@-@READY@-@10.0.0.1@-@42',
      shardingTotalCount: 2,
      jobParameter: '上海 café',
      shardingItem: 0,
    });
    expect(request?.headers['content-type']).toBeUndefined();
  });

  it.each(['POST', 'PUT', 'DELETE'])('sends http.data and http.content.type with %s', async (method) => {
    await call({
      'http.uri': `${base}/data`,
      'http.method': method,
      'http.data': '{"source":"elasticjob"}',
      'http.content.type': 'application/json',
    });
    expect(received).toEqual([
      expect.objectContaining({
        method,
        body: '{"source":"elasticjob"}',
        headers: expect.objectContaining({ 'content-type': 'application/json' }),
      }),
    ]);
  });

  it.each(['GET', 'HEAD', 'OPTIONS'])('sends no body with %s even when http.data is set', async (method) => {
    await call({ 'http.uri': `${base}/data`, 'http.method': method, 'http.data': 'ignored' });
    expect(received).toEqual([expect.objectContaining({ method, body: '' })]);
    expect(received[0]?.headers['content-length']).toBeUndefined();
  });

  it.each([400, 404, 500, 503])('fails the item on status %i', async (status) => {
    const failure = call({ 'http.uri': `${base}/status/${status}`, 'http.method': 'POST' });
    await expect(failure).rejects.toThrow(JobSystemError);
    await expect(failure).rejects.toMatchObject({ code: 'ITEM_FAILED' });
    await expect(failure).rejects.toThrow(
      `HTTP job 'notifier' item 0: POST ${base}/status/${status} answered HTTP ${status}: answer ${status}`,
    );
  });

  it.each([200, 204, 302, 399])('succeeds on status %i', async (status) => {
    await expect(
      call({ 'http.uri': `${base}/status/${status}`, 'http.method': 'GET' }),
    ).resolves.toBeUndefined();
  });

  it('fails when the response headers do not arrive within connect + read timeout', async () => {
    const failure = call({
      'http.uri': `${base}/stall-headers`,
      'http.method': 'GET',
      'http.connect.timeout.milliseconds': '50',
      'http.read.timeout.milliseconds': '100',
    });
    await expect(failure).rejects.toThrow(
      /GET .*\/stall-headers failed: timed out after 150 ms waiting for the response/,
    );
  });

  it('fails when the body stalls longer than the read timeout', async () => {
    const failure = call({
      'http.uri': `${base}/stall-body`,
      'http.method': 'GET',
      'http.read.timeout.milliseconds': '100',
    });
    await expect(failure).rejects.toThrow(/failed: timed out after 100 ms reading the response body/);
  });

  it('aborts the request when the signal aborts', async () => {
    const controller = new AbortController();
    const failure = call({ 'http.uri': `${base}/stall-headers`, 'http.method': 'GET' }, controller.signal);
    await stalled;
    controller.abort(new Error('session lost'));
    await expect(failure).rejects.toThrow(/stall-headers failed: the run was aborted/);
    await expect(failure).rejects.toMatchObject({ cause: new Error('session lost') });
  });

  it('fails with the network cause when nothing listens', async () => {
    const idle = createServer();
    idle.listen(0, '127.0.0.1');
    await once(idle, 'listening');
    const { port } = idle.address() as AddressInfo;
    idle.close();
    await once(idle, 'close');
    await expect(call({ 'http.uri': `http://127.0.0.1:${port}/`, 'http.method': 'GET' })).rejects.toThrow(
      new RegExp(`GET http://127\\.0\\.0\\.1:${port}/ failed: fetch failed: .*ECONNREFUSED`),
    );
  });
});
