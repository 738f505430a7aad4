/**
 * {@link startConsole}: runs the web console and REST API in this process.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CoordinatorRegistryCenter,
  createLogger,
  createRegistryCenter,
  type Logger,
  logLevelFromEnvironment,
  type RegistryCenterConfiguration,
} from '@elasticjob-ts/core';
import { serve } from '@hono/node-server';
import type { ApiContext, ConsoleNamespace } from './api/api-context.js';
import { createConsoleApp } from './api/console-app.js';
import type { HistorySource } from './history/history-source.js';
import { openHistorySource } from './history/open-history.js';
import { ChangeFeed } from './live/change-feed.js';
import { ConsoleGateway } from './registry/console-gateway.js';
import { NamespaceMirror } from './registry/namespace-mirror.js';
import { LoginThrottle } from './security/login-throttle.js';
import { SessionStore } from './security/sessions.js';
import { type ConsoleUsers, loadConsoleUsers } from './security/users-file.js';

/** One registry namespace to show: a started client (kept open) or a configuration (the console connects and closes). */
export type ConsoleRegistryOption = {
  /** Id in `?registry=` and the selector; default: the namespace (made unique). Letters, digits, `_.-`. */
  readonly id?: string;
  /** Shown in the page; default: `<type> / <namespace>`. Never put credentials here. */
  readonly label?: string;
} & (
  | { readonly client: CoordinatorRegistryCenter; readonly type?: string }
  | { readonly configuration: RegistryCenterConfiguration }
);

/** Options of {@link startConsole}. */
export interface ConsoleOptions {
  /** The registries (namespaces) to show; at least one. The first is the default. */
  readonly registries: readonly ConsoleRegistryOption[];
  /** The execution history to search; without it the history endpoints answer 404 `history-not-configured`. */
  readonly history?: HistorySource;
  /** Or the URL of the history database (`sqlite:./history.db`, `postgres://...`), opened through `@elasticjob-ts/tracing`. */
  readonly historyUrl?: string;
  /** Address to bind. Default `127.0.0.1`. Any non-loopback address requires users (`usersFile` or `users`). */
  readonly host?: string;
  /** TCP port; `0` picks a free one. Default `8899`. */
  readonly port?: number;
  /** Path of the users file (see `users-file.ts`): users, roles, API tokens, read-only switch. */
  readonly usersFile?: string;
  /** Users given in code instead of `usersFile`. */
  readonly users?: ConsoleUsers;
  /** Global read-only switch (also on when the users file says `readOnly: true`). Default `false`. */
  readonly readOnly?: boolean;
  /** Mark the session cookie `Secure` (serve behind HTTPS). Default `false`. */
  readonly secureCookies?: boolean;
  /** Extra host names the console answers to when it runs without users (default: loopback names only). */
  readonly allowedHosts?: readonly string[];
  /** Idle timeout of browser sessions, ms. Default 30 minutes. */
  readonly sessionIdleTimeoutMs?: number;
  /**
   * Failed sign-ins of one username within `loginWindowMs` that lock it for `loginLockoutMs`
   * (429 with `Retry-After`, whatever the password). Unknown usernames count too; a successful
   * sign-in clears the username's count. Default 5 (or the users file's `loginMaxFailures`).
   */
  readonly loginMaxFailures?: number;
  /**
   * Failed sign-ins and wrong API tokens from one client address (an IPv6 /64) within
   * `loginWindowMs` that lock the address for `loginLockoutMs`. Default 20 (or the users file's).
   */
  readonly loginMaxFailuresPerAddress?: number;
  /** The sliding window failures are counted in, ms. Default 15 minutes (or the users file's `loginWindowMs`). */
  readonly loginWindowMs?: number;
  /** How long a locked username or address is refused, ms. Default 15 minutes (or the users file's `loginLockoutMs`). */
  readonly loginLockoutMs?: number;
  /** Most usernames and addresses the login throttle remembers at once. Default 10,000. */
  readonly loginMaxTrackedKeys?: number;
  /** The clock of sessions and the login throttle, epoch ms. Default `Date.now` (tests pass their own). */
  readonly now?: () => number;
  /**
   * Logger for errors and the audit log (a pino logger fits). Default: pino JSON on stderr at
   * `info` (the level of the audit lines), or at `ELASTICJOB_LOG_LEVEL` when set.
   */
  readonly logger?: Logger;
  /** Directory of the built pages. Default: the package's `dist/web`. */
  readonly webRoot?: string;
}

/** A running console. */
export interface RunningConsole {
  /** `http://host:port/` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops serving, closes the event streams, the mirrors, and the registry clients the console opened. */
  close(): Promise<void>;
}

/** An option is invalid; `field` names it. */
export class ConsoleOptionsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleOptionsError';
  }
}

/** Whether `host` is a loopback address or name. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

function defaultWebRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From src/ (tests) the build output is ../dist/web; from dist/src/ it is ../web.
  const candidates = [join(here, '..', 'dist', 'web'), join(here, '..', 'web')];
  return candidates.find((candidate) => existsSync(join(candidate, 'index.html'))) ?? candidates[0]!;
}

async function openNamespaces(
  options: ConsoleOptions,
  opened: CoordinatorRegistryCenter[],
  log: Logger,
): Promise<ConsoleNamespace[]> {
  const namespaces: ConsoleNamespace[] = [];
  const ids = new Set<string>();
  for (const [index, option] of options.registries.entries()) {
    let client: CoordinatorRegistryCenter;
    let type: string;
    if ('client' in option) {
      client = option.client;
      type = option.type ?? 'registry';
    } else {
      client = await createRegistryCenter(option.configuration);
      opened.push(client);
      type = option.configuration.type;
    }
    let id = option.id ?? client.namespace.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
      throw new ConsoleOptionsError(
        `registries[${index}].id`,
        `registries[${index}].id must match [A-Za-z0-9_.-]{1,64}, got '${id}'`,
      );
    }
    if (ids.has(id)) {
      if (option.id !== undefined)
        throw new ConsoleOptionsError(`registries[${index}].id`, `duplicate registry id '${id}'`);
      id = `${id}-${index}`;
    }
    ids.add(id);
    const mirror = await NamespaceMirror.start(client);
    const gateway = new ConsoleGateway(client, mirror);
    const feed = new ChangeFeed(gateway, (error) =>
      log.warn({ err: error, registry: id }, 'console event failed'),
    );
    namespaces.push({ id, label: option.label ?? `${type} / ${client.namespace}`, type, gateway, feed });
  }
  return namespaces;
}

async function closeAll(
  namespaces: readonly ConsoleNamespace[],
  opened: readonly CoordinatorRegistryCenter[],
) {
  for (const ns of namespaces) ns.feed.close();
  await Promise.allSettled(namespaces.map((ns) => ns.gateway.mirror.close()));
  await Promise.all(opened.map((client) => client.close()));
}

const LOGIN_LIMITS = [
  ['loginMaxFailures', 'maxFailures'],
  ['loginMaxFailuresPerAddress', 'maxFailuresPerAddress'],
  ['loginWindowMs', 'windowMs'],
  ['loginLockoutMs', 'lockoutMs'],
  ['loginMaxTrackedKeys', 'maxTrackedKeys'],
] as const;

/** The login throttle of the options, else of the users file, else the defaults. */
function createLoginThrottle(options: ConsoleOptions, users: ConsoleUsers | undefined): LoginThrottle {
  const limits: Record<string, number | undefined> = {};
  for (const [option, limit] of LOGIN_LIMITS) {
    const value = options[option] ?? users?.[option];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new ConsoleOptionsError(option, `${option} must be a positive integer, got ${value}`);
    }
    limits[limit] = value;
  }
  return new LoginThrottle({ ...limits, now: options.now });
}

/**
 * Starts the console: connects (or uses) the registries, mirrors each namespace with one watch,
 * and serves the pages, the REST API (`/api/v1`, OpenAPI at `/api/v1/openapi.json`) and the event
 * stream on `host:port`.
 *
 * Security: binds `127.0.0.1` by default; without users every local caller is an admin (the
 * `Host` header must be a loopback name and state-changing requests must not come from another
 * origin). With users, every request needs a session (cookie + CSRF token) or an API token.
 *
 * @example
 * ```ts
 * const console = await startConsole({
 *   registries: [{ configuration: { type: 'zookeeper', serverLists: '127.0.0.1:2181', namespace: 'shop' } }],
 *   usersFile: './console-users.yaml',
 *   host: '0.0.0.0',
 * });
 * console.log(`console at ${console.url}`);
 * ```
 *
 * @throws {ConsoleOptionsError} naming the option: no registry, a non-loopback `host` without
 *   users, an invalid `port`, registry id or login limit (`loginMaxFailures`, ...); a `port` already
 *   in use or needing privileges, a `host` not of this machine.
 * @throws {UsersFileError} when the users file is invalid.
 * @throws {RegistryError} when a registry cannot be reached or watched.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8899;
  if (options.registries.length === 0) {
    throw new ConsoleOptionsError('registries', 'registries must name at least one registry');
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConsoleOptionsError('port', `port must be an integer from 0 to 65535, got ${port}`);
  }
  const users =
    options.users ??
    (options.usersFile === undefined ? undefined : await loadConsoleUsers(options.usersFile));
  if (!isLoopbackHost(host) && users === undefined) {
    throw new ConsoleOptionsError(
      'host',
      `Refusing to bind ${host} without authentication: only loopback addresses (127.0.0.1, ::1, localhost) are served without users; pass a users file (--users) to serve ${host}`,
    );
  }
  const loginThrottle = createLoginThrottle(options, users);
  const log = (options.logger ?? defaultConsoleLogger()).child({ component: 'console' });
  const auditLog = log.child({ audit: true });
  const opened: CoordinatorRegistryCenter[] = [];
  let namespaces: ConsoleNamespace[] = [];
  try {
    namespaces = await openNamespaces(options, opened, log);
  } catch (error) {
    await Promise.allSettled(opened.map((client) => client.close()));
    throw error;
  }
  let history = options.history;
  try {
    if (history === undefined && options.historyUrl !== undefined)
      history = await openHistorySource(options.historyUrl);
  } catch (error) {
    await closeAll(namespaces, opened);
    throw error;
  }
  const context: ApiContext = {
    namespaces,
    history,
    policy: {
      users,
      sessions: new SessionStore({ idleTimeoutMs: options.sessionIdleTimeoutMs, now: options.now }),
      readOnly: options.readOnly === true || users?.readOnly === true,
      allowedHosts: new Set(['localhost', '127.0.0.1', '[::1]', host, ...(options.allowedHosts ?? [])]),
      loginThrottle,
      onLockout: (lock, via) =>
        auditLog.warn(
          {
            action: 'lockout',
            via,
            ...(lock.kind === 'username' ? { user: lock.key } : { address: lock.key }),
            lockedUntil: new Date(lock.lockedUntilMs).toISOString(),
            outcome: 'locked',
          },
          `${lock.kind === 'username' ? `user '${lock.key}'` : `address ${lock.key}`} locked after repeated failed ${via === 'token' ? 'API tokens' : 'sign-ins'}`,
        ),
    },
    auditLog,
    log,
    secureCookies: options.secureCookies ?? false,
  };
  const app = createConsoleApp(context, options.webRoot ?? defaultWebRoot());
  let server: ReturnType<typeof serve>;
  try {
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const created = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(created));
      created.once('error', reject);
    });
  } catch (error) {
    await history?.close();
    await closeAll(namespaces, opened);
    throw listenError(error, host, port);
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await history?.close();
      await closeAll(namespaces, opened);
    },
  };
}

/**
 * The console's logger when given none: core's, but at `info` unless `ELASTICJOB_LOG_LEVEL` says
 * otherwise, since the audit lines are `info` and a console must write them by default (core's
 * default level, `warn`, suits an application embedding jobs).
 */
function defaultConsoleLogger(): Logger {
  return createLogger(logLevelFromEnvironment(process.env, 'info'));
}

/**
 * A failed bind as the option it concerns: a port in use or not allowed is a `port` problem the
 * operator fixes with `--port` (exit code 2 from the CLI), not an internal error.
 */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return new ConsoleOptionsError(
      'port',
      `port ${port} on ${host} is already in use; choose another with --port (0 picks a free one)`,
    );
  }
  if (code === 'EACCES') {
    return new ConsoleOptionsError(
      'port',
      `port ${port} on ${host} needs privileges this process lacks; choose one from 1024 with --port`,
    );
  }
  if (code === 'EADDRNOTAVAIL') {
    return new ConsoleOptionsError('host', `${host} is not an address of this machine; pass one with --host`);
  }
  return error;
}
