/**
 * Options of {@link registryConformanceSuite}: how the suite obtains clients, what the adapter
 * supports, and which faults the test environment can inject.
 *
 * @module
 */
import type { CoordinatorRegistryCenter, RegistryCapabilities } from '@elasticjob-ts/core/adapter';

/** What the suite asks of the factory for one client. */
export interface RegistryClientOptions {
  /**
   * Namespace of the client. The suite gives every test its own namespace(s), made of letters,
   * digits, `.`, `_` and `-`.
   */
  readonly namespace: string;
  /**
   * `user:password` credentials (ElasticJob's `digest`). Only passed by the authentication tests,
   * with {@link CONFORMANCE_DIGEST} or {@link CONFORMANCE_WRONG_DIGEST}; absent means "no credentials".
   */
  readonly digest?: string;
  /**
   * Session timeout in ms. Only passed by tests that wait for a session to expire
   * ({@link CONFORMANCE_SESSION_TIMEOUT_MS}); absent means the adapter's default. A backend may
   * clamp it (ZooKeeper: to [2, 20] × tickTime).
   */
  readonly sessionTimeoutMs?: number;
  /**
   * `true` for every client of the authentication tests (`[capability: authentication]`) — the
   * ones with {@link CONFORMANCE_DIGEST}, with {@link CONFORMANCE_WRONG_DIGEST} and without
   * credentials alike; absent for every other client. A backend whose authentication is
   * server-wide (etcd) routes these clients to an auth-enabled server and the others to a plain
   * one; a backend with per-client credentials (ZooKeeper ACLs, memory) can ignore it. Rely on this
   * flag, not on the test's title or `describe` path.
   */
  readonly authentication?: boolean;
}

/**
 * The credentials the authentication tests use (`user:password`). A backend that needs users
 * provisioned (etcd) must accept this user with full rights in the conformance namespaces.
 */
export const CONFORMANCE_DIGEST = 'conformance:conformance-secret';

/**
 * Credentials with the right user and a wrong password: the server must refuse them (`NO_AUTH`
 * from `start()` or from the first operation), never grant access.
 */
export const CONFORMANCE_WRONG_DIGEST = 'conformance:wrong-password';

/** Session timeout the session-expiry tests request, in ms. */
export const CONFORMANCE_SESSION_TIMEOUT_MS = 2_000;

/**
 * Fault injection the test environment offers. Each is optional: tests that need a missing control
 * are reported as skipped with `[control: name]` in their title. Every control resolves once the
 * fault is in effect (not necessarily once the client noticed it).
 */
export interface RegistryConformanceControls {
  /**
   * Forces the server to expire `client`'s session (ZooKeeper: close a second connection that
   * reuses the session id and password; etcd: revoke the lease; memory: `client.expireSession()`).
   * The client is expected to report `LOST`, then `RECONNECTED` with a new session.
   */
  expireSession?(client: CoordinatorRegistryCenter): Promise<void>;
  /**
   * Cuts `client` off from the server without closing it (a TCP proxy that drops traffic,
   * `client.simulateDisconnect()`). `SUSPENDED` is expected; `LOST` once the session timeout passed.
   */
  disconnect?(client: CoordinatorRegistryCenter): Promise<void>;
  /** Restores a client cut off by {@link RegistryConformanceControls.disconnect}; `RECONNECTED` is expected. */
  reconnect?(client: CoordinatorRegistryCenter): Promise<void>;
  /**
   * Cuts `client` off silently, as a partition without FIN/RST or a stopped server would: its
   * connections stay open and nothing reaches the server or comes back (a TCP proxy in black-hole
   * mode; memory: `client.faults.partition()` noticed only after a minute). Requests get no answer.
   * Used before `close()`, which must not wait on them; never restored.
   */
  blackhole?(client: CoordinatorRegistryCenter): Promise<void>;
  /**
   * Stops the server process and starts it again on the same address with its data. Clients are
   * expected to report `SUSPENDED` then `RECONNECTED` (or `LOST` then `RECONNECTED` if the session
   * did not survive) and to keep working.
   */
  restartServer?(): Promise<void>;
}

/** Options of {@link registryConformanceSuite}. */
export interface RegistryConformanceSuiteOptions {
  /** Name of the adapter, shown in the top-level `describe` (e.g. `'memory'`). */
  readonly name: string;
  /**
   * Builds a new, **unstarted** client of the same server (or ensemble) every time. The suite
   * starts and closes it. May be async (e.g. to look up a test server's address).
   *
   * @param options - namespace and, for some tests, credentials, session timeout and the
   *   `authentication` flag (see {@link RegistryClientOptions}).
   */
  create(options: RegistryClientOptions): CoordinatorRegistryCenter | Promise<CoordinatorRegistryCenter>;
  /**
   * What the adapter declares; must equal the clients' `capabilities` (a test checks it). Tests of
   * undeclared optional features are reported as skipped with `[capability: name]` in their title.
   */
  readonly capabilities: RegistryCapabilities;
  /** Fault injection available in this environment. @defaultValue `{}` (fault tests are skipped) */
  readonly controls?: RegistryConformanceControls;
  /**
   * Multiplies every wait bound and test timeout of the suite, for slow backends or CI machines.
   * Tests still finish as soon as their condition holds.
   * @defaultValue 1
   */
  readonly timeoutScale?: number;
}
