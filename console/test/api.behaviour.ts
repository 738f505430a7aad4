/**
 * The REST API end to end, one body per registry backend: a real ZooKeeper or etcd server, two live
 * job instances in this process, a console with admin/operator/viewer users and API tokens.
 * Conditions are awaited with `vi.waitFor` on the API itself; nothing sleeps a fixed time.
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningConsole } from '../src/index.js';
import {
  ApiClient,
  type LiveInstance,
  PASSWORDS,
  RecordingLogger,
  type RegistryBackend,
  startBackend,
  startInstance,
  startTestConsole,
  testUsers,
} from './support/console-fixture.js';

const WAIT = { timeout: 20_000, interval: 50 } as const;
const IP_A = '10.0.0.1';
const IP_B = '10.0.0.2';

interface Item {
  item: number;
  status: string;
  instanceId: string | null;
  disabled: boolean;
}
interface Detail {
  job: { status: string; instanceCount: number };
  items: Item[];
  leader: string | null;
  servers: { serverIp: string; status: string | null; instances: string[] }[];
  stored: { version: string; yaml: string };
  configuration: Record<string, unknown>;
}
interface ProblemBody {
  type: string;
  status: number;
  field?: string;
  errors?: { field: string; message: string }[];
}

async function problemOf(response: Response): Promise<ProblemBody> {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as ProblemBody;
}

/** Registers the API scenarios for one backend. */
export function apiBehaviourSuite(backendName: 'zookeeper' | 'etcd'): void {
  describe(`console REST API on ${backendName}`, { timeout: 60_000 }, () => {
    const namespace = `console-${backendName}-${process.pid}`;
    let backend: RegistryBackend;
    let observer: CoordinatorRegistryCenter;
    let consoleServer: RunningConsole;
    const instances: LiveInstance[] = [];
    const logger = new RecordingLogger();
    let admin: ApiClient;
    let operator: ApiClient;
    let viewer: ApiClient;
    let operatorToken: ApiClient;
    let viewerToken: ApiClient;
    let anonymous: ApiClient;

    const detail = (job = 'orders') => admin.get<Detail>(`/api/v1/jobs/${job}`);

    beforeAll(async () => {
      backend = await startBackend(backendName);
      observer = await backend.createClient(namespace);
      instances.push(await startInstance(backend, namespace, 'orders', 'a', IP_A));
      instances.push(await startInstance(backend, namespace, 'orders', 'b', IP_B));
      const fixture = await testUsers();
      consoleServer = await startTestConsole({
        registries: [{ client: observer, type: backendName }],
        users: fixture.users,
        logger,
      });
      const url = consoleServer.url;
      admin = new ApiClient(url);
      operator = new ApiClient(url);
      viewer = new ApiClient(url);
      anonymous = new ApiClient(url);
      operatorToken = new ApiClient(url, fixture.operatorToken);
      viewerToken = new ApiClient(url, fixture.viewerToken);
      for (const [client, name] of [
        [admin, 'admin'],
        [operator, 'operator'],
        [viewer, 'viewer'],
      ] as const) {
        expect((await client.login(name, PASSWORDS[name])).status).toBe(200);
      }
      // Settled: both instances own items, and the listing (the console's watch cache) shows the
      // job OK with both instances, no resharding pending.
      await vi.waitFor(async () => {
        const owners = new Set((await detail()).items.map((item) => item.instanceId));
        expect(owners).toEqual(new Set(['a', 'b']));
        const jobs = await viewer.get<{ status: string; instanceCount: number }[]>('/api/v1/jobs');
        expect(jobs).toEqual([expect.objectContaining({ status: 'OK', instanceCount: 2 })]);
      }, WAIT);
    }, 90_000);

    afterAll(async () => {
      await consoleServer?.close();
      for (const instance of instances) await instance.stop();
      await observer?.close();
      await backend?.stop();
    }, 60_000);

    it('serves the OpenAPI document with every endpoint', async () => {
      const document = (await (await anonymous.request('GET', '/api/v1/openapi.json')).json()) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
      };
      expect(document.openapi).toBe('3.1.0');
      for (const [path, method] of [
        ['/api/v1/jobs', 'get'],
        ['/api/v1/jobs/{job}', 'get'],
        ['/api/v1/jobs/{job}', 'delete'],
        ['/api/v1/jobs/{job}/config', 'put'],
        ['/api/v1/jobs/{job}/trigger', 'post'],
        ['/api/v1/jobs/{job}/items/{item}/disable', 'post'],
        ['/api/v1/jobs/{job}/servers/{ip}/shutdown', 'post'],
        ['/api/v1/servers/{ip}/enable', 'post'],
        ['/api/v1/servers', 'get'],
        ['/api/v1/instances', 'get'],
        ['/api/v1/executions', 'get'],
        ['/api/v1/status-traces', 'get'],
        ['/api/v1/jobs/{job}/stats', 'get'],
        ['/api/v1/events', 'get'],
      ] as const) {
        expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
      }
    });

    it('refuses requests without a session or token, and bad credentials', async () => {
      const response = await anonymous.request('GET', '/api/v1/jobs');
      expect(response.status).toBe(401);
      expect((await problemOf(response)).field).toBe('header.Authorization');
      const badLogin = await new ApiClient(consoleServer.url).login('admin', 'wrong');
      expect(badLogin.status).toBe(401);
      expect((await problemOf(badLogin)).field).toBe('body.password');
      const badToken = await new ApiClient(consoleServer.url, 'ejc_not-a-token').request(
        'GET',
        '/api/v1/jobs',
      );
      expect(badToken.status).toBe(401);
    });

    it('sets an HttpOnly SameSite=Strict session cookie and security headers', async () => {
      const response = await new ApiClient(consoleServer.url).login('viewer', PASSWORDS.viewer);
      const cookie = response.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      const page = await anonymous.request('GET', '/');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    });

    it('lists jobs, a job, servers and instances for every role', async () => {
      for (const client of [admin, operator, viewer, viewerToken]) {
        const jobs =
          await client.get<
            { jobName: string; status: string; instanceCount: number; shardingTotalCount: number }[]
          >('/api/v1/jobs');
        expect(jobs).toEqual([
          expect.objectContaining({
            jobName: 'orders',
            status: 'OK',
            instanceCount: 2,
            shardingTotalCount: 4,
          }),
        ]);
      }
      const job = await viewer.get<Detail>('/api/v1/jobs/orders');
      expect(job.items.map((item) => item.item)).toEqual([0, 1, 2, 3]);
      expect(['a', 'b']).toContain(job.leader);
      expect(job.servers).toEqual([
        { serverIp: IP_A, status: 'ENABLED', instances: ['a'] },
        { serverIp: IP_B, status: 'ENABLED', instances: ['b'] },
      ]);
      expect(job.configuration).toMatchObject({ jobName: 'orders', shardingTotalCount: 4 });
      const servers = await viewer.get<{ serverIp: string; jobNames: string[] }[]>('/api/v1/servers');
      expect(servers.map((server) => [server.serverIp, server.jobNames])).toEqual([
        [IP_A, ['orders']],
        [IP_B, ['orders']],
      ]);
      const live =
        await viewer.get<{ instanceId: string; serverIp: string; serverStatus: string }[]>(
          '/api/v1/instances',
        );
      expect(live.map((each) => [each.instanceId, each.serverIp, each.serverStatus]).sort()).toEqual([
        ['a', IP_A, 'ENABLED'],
        ['b', IP_B, 'ENABLED'],
      ]);
      const registries = await viewer.get<{ id: string; namespace: string }[]>('/api/v1/registries');
      expect(registries).toEqual([expect.objectContaining({ namespace })]);
      expect(JSON.stringify(registries)).not.toMatch(/127\.0\.0\.1|:\d{4,5}/);
    });

    it('names the field of bad input: unknown job, bad job name, bad item, unknown registry', async () => {
      const unknown = await viewer.request('GET', '/api/v1/jobs/ordres');
      expect(unknown.status).toBe(404);
      expect(await problemOf(unknown)).toMatchObject({ field: 'path.job', knownJobNames: ['orders'] });
      const badName = await operator.request('POST', '/api/v1/jobs/or%20ders/trigger');
      expect(badName.status).toBe(400);
      expect((await problemOf(badName)).field).toBe('path.job');
      const badItem = await operator.request('POST', '/api/v1/jobs/orders/items/-1/disable');
      expect(badItem.status).toBe(400);
      expect((await problemOf(badItem)).field).toBe('path.item');
      const outOfRange = await operator.request('POST', '/api/v1/jobs/orders/items/9/disable');
      expect(outOfRange.status).toBe(400);
      expect((await problemOf(outOfRange)).field).toBe('path.item');
      const registry = await viewer.request('GET', '/api/v1/jobs?registry=nope');
      expect(registry.status).toBe(404);
      expect((await problemOf(registry)).field).toBe('query.registry');
      const badQuery = await viewer.request('GET', '/api/v1/executions?success=maybe');
      expect(badQuery.status).toBe(400);
      expect((await problemOf(badQuery)).field).toBe('query.success');
      const noHistory = await viewer.request('GET', '/api/v1/executions?job=orders');
      expect(noHistory.status).toBe(404);
      expect((await problemOf(noHistory)).type).toBe('urn:elasticjob-console:history-not-configured');
    });

    it('trigger: viewer refused, operator (session and token) runs every instance once', async () => {
      const refused = await viewer.request('POST', '/api/v1/jobs/orders/trigger');
      expect(refused.status).toBe(403);
      expect((await problemOf(refused)).type).toBe('urn:elasticjob-console:forbidden');
      const refusedToken = await viewerToken.request('POST', '/api/v1/jobs/orders/trigger');
      expect(refusedToken.status).toBe(403);
      for (const instance of instances) instance.runs.length = 0;
      const response = await operator.request('POST', '/api/v1/jobs/orders/trigger');
      expect(response.status).toBe(200);
      expect(((await response.json()) as { instances: string[] }).instances.sort()).toEqual(['a', 'b']);
      await vi.waitFor(
        () => expect(instances.flatMap((instance) => instance.runs).sort()).toEqual([0, 1, 2, 3]),
        WAIT,
      );
      const byToken = await operatorToken.request('POST', '/api/v1/jobs/orders/trigger');
      expect(byToken.status).toBe(200);
      await vi.waitFor(() => expect(instances.flatMap((instance) => instance.runs)).toHaveLength(8), WAIT);
    });

    it('a session request without the CSRF token is refused', async () => {
      const response = await operator.request(
        'POST',
        '/api/v1/jobs/orders/trigger',
        undefined,
        {},
        { csrf: false },
      );
      expect(response.status).toBe(403);
      expect((await problemOf(response)).field).toBe('header.X-CSRF-Token');
      // With the session's valid token, from another origin: refused for the origin, and said so.
      const crossOrigin = await operator.request('POST', '/api/v1/jobs/orders/trigger', undefined, {
        Origin: 'http://evil.example',
      });
      expect(crossOrigin.status).toBe(403);
      expect(await problemOf(crossOrigin)).toMatchObject({
        field: 'header.Origin',
        detail: 'State-changing requests from other origins are refused',
      });
    });

    it('disables and enables one sharding item', async () => {
      expect((await operatorToken.request('POST', '/api/v1/jobs/orders/items/2/disable')).status).toBe(200);
      await vi.waitFor(async () => {
        const item = (await detail()).items[2]!;
        expect(item).toMatchObject({ status: 'DISABLED', disabled: true });
      }, WAIT);
      expect((await operator.request('POST', '/api/v1/jobs/orders/items/2/enable')).status).toBe(200);
      await vi.waitFor(async () => expect((await detail()).items[2]!.disabled).toBe(false), WAIT);
    });

    it('disables one server of a job (its items move) and enables it again', async () => {
      expect((await operator.request('POST', `/api/v1/jobs/orders/servers/${IP_B}/disable`)).status).toBe(
        200,
      );
      await vi.waitFor(async () => {
        const job = await detail();
        expect(job.servers.find((server) => server.serverIp === IP_B)?.status).toBe('DISABLED');
        expect(job.items.map((item) => item.instanceId)).toEqual(['a', 'a', 'a', 'a']);
      }, WAIT);
      expect((await operator.request('POST', `/api/v1/jobs/orders/servers/${IP_B}/enable`)).status).toBe(200);
      await vi.waitFor(
        async () =>
          expect(new Set((await detail()).items.map((item) => item.instanceId))).toEqual(new Set(['a', 'b'])),
        WAIT,
      );
    });

    it('disables and enables a server in every job, and the whole job', async () => {
      const disabled = await operator.request('POST', `/api/v1/servers/${IP_A}/disable`);
      expect(disabled.status).toBe(200);
      expect(((await disabled.json()) as { servers: unknown[] }).servers).toEqual([
        { jobName: 'orders', serverIp: IP_A },
      ]);
      expect((await operator.request('POST', `/api/v1/servers/${IP_A}/enable`)).status).toBe(200);
      const unknownServer = await operator.request('POST', '/api/v1/servers/10.9.9.9/disable');
      expect(unknownServer.status).toBe(404);
      expect((await problemOf(unknownServer)).field).toBe('path.ip');
      expect((await operator.request('POST', '/api/v1/jobs/orders/disable')).status).toBe(200);
      await vi.waitFor(async () => expect((await detail()).job.status).toBe('DISABLED'), WAIT);
      expect((await operator.request('POST', '/api/v1/jobs/orders/enable')).status).toBe(200);
      await vi.waitFor(async () => expect((await detail()).job.status).toBe('OK'), WAIT);
    });

    it('edits the configuration with compare-and-set; bad input names the field', async () => {
      const read = await admin.request('GET', '/api/v1/jobs/orders/config');
      const stored = (await read.json()) as { version: string; yaml: string };
      expect(read.headers.get('etag')).toBe(`"${stored.version}"`);
      const body = { shardingTotalCount: 4, cron: '0 0 0 1 1 ? 2098', description: 'edited' };

      const byOperator = await operator.request('PUT', '/api/v1/jobs/orders/config', body, {
        'If-Match': stored.version,
      });
      expect(byOperator.status).toBe(403);
      const noVersion = await admin.request('PUT', '/api/v1/jobs/orders/config', body);
      expect(noVersion.status).toBe(428);
      expect((await problemOf(noVersion)).field).toBe('header.If-Match');
      const wrongType = await admin.request(
        'PUT',
        '/api/v1/jobs/orders/config',
        { ...body, shardingTotalCount: 'four' },
        {
          'If-Match': stored.version,
        },
      );
      expect(wrongType.status).toBe(400);
      expect((await problemOf(wrongType)).field).toBe('body.shardingTotalCount');
      const unknownField = await admin.request(
        'PUT',
        '/api/v1/jobs/orders/config',
        { ...body, shardingTotal: 3 },
        {
          'If-Match': stored.version,
        },
      );
      expect(unknownField.status).toBe(400);
      const badCron = await admin.request(
        'PUT',
        '/api/v1/jobs/orders/config',
        { ...body, cron: '61 * * * * ?' },
        {
          'If-Match': stored.version,
        },
      );
      expect(badCron.status).toBe(422);
      expect((await problemOf(badCron)).field).toBe('body.cron');
      const badCount = await admin.request(
        'PUT',
        '/api/v1/jobs/orders/config',
        { ...body, shardingTotalCount: 0 },
        {
          'If-Match': stored.version,
        },
      );
      expect(badCount.status).toBe(422);
      expect((await problemOf(badCount)).field).toBe('body.shardingTotalCount');
      const malformed = await admin.request('PUT', '/api/v1/jobs/orders/config', '{"shardingTotalCount":', {
        'If-Match': stored.version,
      });
      expect(malformed.status).toBe(400);
      expect((await problemOf(malformed)).field).toBe('body');

      const saved = await admin.request('PUT', '/api/v1/jobs/orders/config', body, {
        'If-Match': `"${stored.version}"`,
      });
      expect(saved.status).toBe(200);
      const after = (await saved.json()) as { version: string; yaml: string };
      expect(after.version).not.toBe(stored.version);
      expect(after.yaml).toContain('description: edited');
      await vi.waitFor(
        async () => expect((await detail()).configuration.cron).toBe('0 0 0 1 1 ? 2098'),
        WAIT,
      );

      // The version read before the save is stale now: the second writer gets 412 and the current version.
      const stale = await admin.request(
        'PUT',
        '/api/v1/jobs/orders/config',
        { ...body, description: 'lost' },
        {
          'If-Match': stored.version,
        },
      );
      expect(stale.status).toBe(412);
      expect(await problemOf(stale)).toMatchObject({
        field: 'header.If-Match',
        currentVersion: after.version,
      });
      expect(await observer.getDirectly('/orders/config')).toContain('description: edited');
    });

    it('a concurrent change by another writer makes the edit fail with 412', async () => {
      const stored = (await (await admin.request('GET', '/api/v1/jobs/orders/config')).json()) as {
        version: string;
        yaml: string;
      };
      await observer.update(
        '/orders/config',
        stored.yaml.replace('description: edited', 'description: by the CLI'),
      );
      const response = await admin.request(
        'PUT',
        '/api/v1/jobs/orders/config',
        { shardingTotalCount: 4, description: 'mine' },
        {
          'If-Match': stored.version,
        },
      );
      expect(response.status).toBe(412);
      expect(await observer.getDirectly('/orders/config')).toContain('description: by the CLI');
    });

    it('lists a job whose stored configuration is malformed as INVALID_CONFIG beside the others', async () => {
      await observer.persist('/broken/config', 'shardingTotalCount: [');
      await vi.waitFor(async () => {
        const jobs = await viewer.get<{ jobName: string; status: string; error?: string }[]>('/api/v1/jobs');
        expect(jobs.map((job) => [job.jobName, job.status])).toEqual([
          ['broken', 'INVALID_CONFIG'],
          ['orders', 'OK'],
        ]);
        expect(jobs[0]!.error).toBeTruthy();
      }, WAIT);
      const broken = await viewer.get<Detail>('/api/v1/jobs/broken');
      expect(broken.configuration).toBeNull();
      expect(broken.stored.yaml).toBe('shardingTotalCount: [');
    });

    it('streams a job appearing, changing and disappearing as server-sent events', async () => {
      const controller = new AbortController();
      const response = await fetch(new URL('/api/v1/events', consoleServer.url), {
        headers: {
          Cookie: '',
          Authorization: `Bearer ${(operatorToken as unknown as { bearer: string }).bearer}`,
        },
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
          text += value;
        }
      };
      try {
        await until(/event: ready/);
        const reports = await startInstance(backend, namespace, 'reports', 'r1', IP_A, 2);
        instances.push(reports);
        await until(/event: job\ndata: \{"jobName":"reports","summary":\{[^\n]*"instanceCount":1/);
        await until(/event: servers/);
        await observer.remove('/broken');
        await until(/event: job\ndata: \{"jobName":"broken","summary":null/);
      } finally {
        controller.abort();
      }
    });

    it('shuts one server of a job down; the instance leaves', async () => {
      const response = await operator.request('POST', `/api/v1/jobs/reports/servers/${IP_A}/shutdown`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { instances: string[] }).instances).toEqual(['r1']);
      await vi.waitFor(
        async () =>
          expect((await detail('reports')).job).toMatchObject({ status: 'CRASHED', instanceCount: 0 }),
        WAIT,
      );
    });

    it('removes a job: operator refused, admin allowed', async () => {
      expect((await operator.request('DELETE', '/api/v1/jobs/reports')).status).toBe(403);
      expect((await admin.request('DELETE', '/api/v1/jobs/reports')).status).toBe(200);
      await vi.waitFor(async () => {
        const jobs = await viewer.get<{ jobName: string }[]>('/api/v1/jobs');
        expect(jobs.map((job) => job.jobName)).toEqual(['orders']);
      }, WAIT);
      const gone = await admin.request('DELETE', '/api/v1/jobs/reports');
      expect(gone.status).toBe(404);
    });

    it('writes an audit line per operation naming who, what and the outcome, without secrets', () => {
      const audit = logger.entries.filter(
        (entry) => entry.context.audit === true && entry.context.method !== undefined,
      );
      expect(audit).toContainEqual(
        expect.objectContaining({
          context: expect.objectContaining({
            user: 'operator',
            role: 'operator',
            method: 'POST',
            path: '/api/v1/jobs/orders/trigger',
            status: 200,
          }),
        }),
      );
      expect(audit).toContainEqual(
        expect.objectContaining({
          context: expect.objectContaining({
            user: 'deploy-script',
            via: 'token',
            path: '/api/v1/jobs/orders/items/2/disable',
          }),
        }),
      );
      expect(audit).toContainEqual(
        expect.objectContaining({ context: expect.objectContaining({ user: 'viewer', status: 403 }) }),
      );
      const everything = JSON.stringify(logger.entries);
      for (const secret of Object.values(PASSWORDS)) expect(everything).not.toContain(secret);
      expect(everything).not.toMatch(/ejc_[A-Za-z0-9_-]{20,}/);
    });

    it('the read-only switch refuses operations for every role', async () => {
      const fixture = await testUsers(true);
      const readOnly = await startTestConsole({
        registries: [{ client: observer }],
        users: fixture.users,
        logger,
      });
      try {
        const client = new ApiClient(readOnly.url);
        await client.login('admin', PASSWORDS.admin);
        const refused = await client.request('POST', '/api/v1/jobs/orders/trigger');
        expect(refused.status).toBe(403);
        expect((await problemOf(refused)).type).toBe('urn:elasticjob-console:read-only');
        expect((await client.get<unknown[]>('/api/v1/jobs')).length).toBe(1);
      } finally {
        await readOnly.close();
      }
    });
  });
}
