/**
 * The pages' client of the console's REST API: JSON with the session's CSRF token, problem+json
 * errors as {@link ApiError}, the selected registry on every call, and the live event stream.
 */

/** A problem+json answer. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly field?: string;
  readonly errors?: readonly { field: string; message: string }[];
  readonly currentVersion?: string;
}

/** A failed API call. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

export type Role = 'admin' | 'operator' | 'viewer';

export interface SessionInfo {
  authenticated: boolean;
  authRequired: boolean;
  username: string | null;
  role: Role | null;
  csrfToken: string | null;
  readOnly: boolean;
  historyAvailable: boolean;
}

export type JobStatus = 'OK' | 'DISABLED' | 'SHARDING_FLAG' | 'CRASHED' | 'INVALID_CONFIG';

export interface JobSummary {
  jobName: string;
  status: JobStatus;
  cron: string;
  description: string;
  shardingTotalCount: number;
  instanceCount: number;
  error?: string;
}

export interface ItemInfo {
  item: number;
  status: 'RUNNING' | 'COMPLETED' | 'DISABLED' | 'SHARDING_FLAG' | 'PENDING';
  instanceId: string | null;
  serverIp: string | null;
  running: boolean;
  disabled: boolean;
  failover: string | null;
}

export interface JobDetail {
  job: JobSummary;
  configuration: Record<string, unknown> | null;
  stored: { yaml: string; version: string };
  leader: string | null;
  servers: { serverIp: string; status: string | null; instances: string[] }[];
  instances: { instanceId: string; serverIp: string; serverStatus: string | null }[];
  items: ItemInfo[];
}

export interface ServerInfo {
  serverIp: string;
  instances: string[];
  jobNames: string[];
  instancesNum: number;
  jobsNum: number;
  disabledJobsNum: number;
}

export interface InstanceInfo {
  jobName: string;
  instanceId: string;
  serverIp: string;
  serverStatus: string | null;
}

export interface RegistryInfo {
  id: string;
  label: string;
  namespace: string;
  type: string;
}

export interface Execution {
  id: string;
  jobName: string;
  taskId: string;
  hostname: string;
  ip: string;
  shardingItem: number;
  executionSource: string;
  failureCause: string | null;
  success: boolean;
  startTime: string;
  completeTime: string | null;
}

export interface StatusTrace {
  id: string;
  jobName: string;
  taskId: string;
  state: string;
  message: string;
  creationTime: string;
  shardingItem: string;
  executionType: string;
}

export interface StatsBucket {
  start: string;
  runs: number;
  failures: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

let csrfToken: string | null = null;
let registryId: string | undefined;

/** Remembers the session's CSRF token (from sign-in or GET /session). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Selects the registry every later call addresses. */
export function setRegistry(id: string | undefined): void {
  registryId = id;
}

/** The selected registry id. */
export function currentRegistry(): string | undefined {
  return registryId;
}

function withRegistry(path: string): string {
  if (registryId === undefined) return path;
  return `${path}${path.includes('?') ? '&' : '?'}registry=${encodeURIComponent(registryId)}`;
}

/** Calls the API; resolves with the JSON body, rejects with {@link ApiError}. */
export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const all: Record<string, string> = { Accept: 'application/json', ...headers };
  if (body !== undefined) all['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) all['X-CSRF-Token'] = csrfToken;
  const response = await fetch(withRegistry(`api/v1${path}`), {
    method,
    headers: all,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  const parsed = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    throw new ApiError(
      parsed ?? {
        type: 'about:blank',
        title: response.statusText,
        status: response.status,
        detail: response.statusText,
      },
    );
  }
  return parsed as T;
}

/** A change pushed by the console. */
export type LiveEvent =
  | { type: 'job'; jobName: string; summary: JobSummary | null; parts: string[] }
  | { type: 'servers' }
  | { type: 'ready' };

/** Opens the event stream of the selected registry; returns a function closing it. */
export function subscribe(onEvent: (event: LiveEvent) => void, onState: (live: boolean) => void): () => void {
  const source = new EventSource(withRegistry('api/v1/events'));
  source.addEventListener('ready', () => {
    onState(true);
    onEvent({ type: 'ready' });
  });
  source.addEventListener('job', (message) =>
    onEvent({ type: 'job', ...JSON.parse((message as MessageEvent).data) }),
  );
  source.addEventListener('servers', () => onEvent({ type: 'servers' }));
  source.onerror = () => onState(false);
  return () => source.close();
}
