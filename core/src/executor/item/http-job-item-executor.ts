/**
 * The `HTTP` typed job (ElasticJob `HttpJobExecutor`): calls a URL per item with the item's sharding
 * context in the `shardingContext` header.
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../../config/job-configuration.js';
import { JobSystemError } from '../../error-handler/job-system-error.js';
import type { JobItemExecutor, JobRuntime } from '../../job/elastic-job.js';
import type { ShardingContext } from '../../job/sharding-context.js';
import { sendHttpRequest } from '../http-request.js';
import { optionalProp, type Props, positiveIntegerProp, propError, requiredProp } from '../props.js';
import { shardingContextToAsciiJson } from './sharding-context-json.js';

/** Prop: the URL to call (`http:` or `https:`). Required. */
export const HTTP_URI_PROP = 'http.uri';
/** Prop: the method, one of {@link HTTP_METHODS} (case-insensitive). Required. */
export const HTTP_METHOD_PROP = 'http.method';
/** Prop: the request body, sent only for `POST`, `PUT` and `DELETE`. */
export const HTTP_DATA_PROP = 'http.data';
/** Prop: the `Content-Type` request header, sent when set. */
export const HTTP_CONTENT_TYPE_PROP = 'http.content.type';
/** Prop: connect timeout in ms. @defaultValue 3000 */
export const HTTP_CONNECT_TIMEOUT_PROP = 'http.connect.timeout.milliseconds';
/** Prop: read timeout in ms. @defaultValue 5000 */
export const HTTP_READ_TIMEOUT_PROP = 'http.read.timeout.milliseconds';
/** The header carrying the sharding context JSON (ElasticJob's name). */
export const SHARDING_CONTEXT_HEADER = 'shardingContext';

/** Accepted `http.method` values: those Java's `HttpURLConnection` accepts, less `TRACE`. */
export const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'];

const BODY_METHODS = new Set(['POST', 'PUT', 'DELETE']);

/** The validated props of an `HTTP` job (ElasticJob `HttpParam`). */
export interface HttpJobParameters {
  readonly uri: string;
  /** Upper case, one of {@link HTTP_METHODS}. */
  readonly method: string;
  /** `undefined` when unset or empty. */
  readonly data: string | undefined;
  /** `undefined` when unset or empty. */
  readonly contentType: string | undefined;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
}

/**
 * Reads and validates an `HTTP` job's props.
 *
 * @param props - the job's props.
 * @param jobName - for error messages.
 * @throws {JobConfigurationError} (field `props.{prop}`): `http.uri` missing or not an
 * http(s) URL, `http.method` missing or not one of {@link HTTP_METHODS}, a timeout not a positive
 * integer.
 */
export function parseHttpJobParameters(props: Props, jobName: string): HttpJobParameters {
  const owner = { what: 'the HTTP job type', jobName };
  const uri = requiredProp(props, HTTP_URI_PROP, owner);
  let protocol: string;
  try {
    protocol = new URL(uri).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw propError(owner, HTTP_URI_PROP, `must be an http: or https: URL, got '${uri}'`);
  }
  const method = requiredProp(props, HTTP_METHOD_PROP, owner).trim().toUpperCase();
  if (!HTTP_METHODS.includes(method)) {
    throw propError(
      owner,
      HTTP_METHOD_PROP,
      `must be one of ${HTTP_METHODS.join(', ')}, got '${props[HTTP_METHOD_PROP]}'`,
    );
  }
  return {
    uri,
    method,
    data: optionalProp(props, HTTP_DATA_PROP),
    contentType: optionalProp(props, HTTP_CONTENT_TYPE_PROP),
    connectTimeoutMs: positiveIntegerProp(props, HTTP_CONNECT_TIMEOUT_PROP, 3000, owner),
    readTimeoutMs: positiveIntegerProp(props, HTTP_READ_TIMEOUT_PROP, 5000, owner),
  };
}

/**
 * Runs the `HTTP` job's item with Node's built-in `fetch`: sends `http.method` to `http.uri` with
 * header `shardingContext` = the item's context JSON (non-ASCII escaped as `\uXXXX`), header
 * `Content-Type` = `http.content.type` when set, and body `http.data` for `POST`/`PUT`/`DELETE`
 * only. Redirects are followed. The props are read from the current run's configuration.
 *
 * Timeouts: the response headers must arrive within connect + read timeout, then the body must make
 * progress every read timeout (`fetch` hides the connect phase; this is the same worst case as
 * Java's two timeouts).
 *
 * Fails the item with {@link JobSystemError} `ITEM_FAILED` (naming method, URL and status or
 * cause) on a network error, a timeout, an abort of the item's `signal`, or **a status ≥ 400**.
 * Deviation: ElasticJob only logs a warning for status ≥ 400 and counts the item as successful.
 */
export class HttpJobItemExecutor implements JobItemExecutor {
  /**
   * @param configuration - the job's configuration at resolve time, to validate the props.
   * @throws {JobConfigurationError} see {@link parseHttpJobParameters}.
   */
  constructor(configuration: ResolvedJobConfiguration) {
    parseHttpJobParameters(configuration.props, configuration.jobName);
  }

  /** Calls the URL. @throws {JobSystemError} `ITEM_FAILED` as described on the class. */
  async process(context: ShardingContext, runtime: JobRuntime): Promise<void> {
    const params = parseHttpJobParameters(runtime.configuration.props, context.jobName);
    const shown = `HTTP job '${context.jobName}' item ${context.shardingItem}: ${params.method} ${params.uri}`;
    const headers: Record<string, string> = {
      [SHARDING_CONTEXT_HEADER]: shardingContextToAsciiJson(context),
    };
    if (params.contentType !== undefined) headers['content-type'] = params.contentType;
    const withBody = BODY_METHODS.has(params.method) && params.data !== undefined;
    let status: number;
    let bodyStart: string;
    try {
      ({ status, bodyStart } = await sendHttpRequest({
        url: params.uri,
        method: params.method,
        headers,
        body: withBody ? params.data : undefined,
        connectTimeoutMs: params.connectTimeoutMs,
        readTimeoutMs: params.readTimeoutMs,
        signal: context.signal,
      }));
    } catch (error) {
      const reason = context.signal.aborted ? 'the run was aborted' : describeFetchError(error);
      throw new JobSystemError('ITEM_FAILED', `${shown} failed: ${reason}`, { cause: error });
    }
    if (status >= 400) {
      const body = bodyStart === '' ? '' : `: ${bodyStart.slice(0, 200)}`;
      throw new JobSystemError('ITEM_FAILED', `${shown} answered HTTP ${status}${body}`);
    }
  }
}

/** `fetch failed` alone says nothing; add the cause's message (e.g. `connect ECONNREFUSED …`). */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
