/**
 * The `WEBHOOK` error handler: POSTs each job error as JSON to a URL. It stands in for ElasticJob's
 * `WECHAT`/`DINGTALK` handlers (which post to a chat webhook) with a neutral payload that any
 * receiver, chat bridge or alerting gateway can map.
 *
 * @module
 */
import { sendHttpRequest } from '../executor/http-request.js';
import { type Props, positiveIntegerProp, propError, requiredProp } from '../executor/props.js';
import type { Logger } from '../logging/logger.js';
import { jobErrorMessage } from './built-in-error-handlers.js';
import type { JobErrorHandler } from './job-error-handler.js';

/** Prop: the URL to POST to (`http:` or `https:`). Required. */
export const WEBHOOK_URL_PROP = 'webhook.url';
/** Prop: connect timeout in ms. @defaultValue 3000 (as ElasticJob's chat handlers) */
export const WEBHOOK_CONNECT_TIMEOUT_PROP = 'webhook.connect.timeout.milliseconds';
/** Prop: read timeout in ms. @defaultValue 5000 (as ElasticJob's chat handlers) */
export const WEBHOOK_READ_TIMEOUT_PROP = 'webhook.read.timeout.milliseconds';

/** The JSON body the `WEBHOOK` handler POSTs (`Content-Type: application/json`). */
export interface WebhookPayload {
  readonly jobName: string;
  /** `Job '{jobName}' exception occur in job processing, caused by {error message}`. */
  readonly message: string;
  /** The error's stack trace (its message for non-errors). */
  readonly stack: string;
}

/**
 * `WEBHOOK`: POSTs a {@link WebhookPayload} to the prop `webhook.url`. A failed delivery (network
 * error, timeout, status ≥ 400) is logged at `error` level and never thrown, as ElasticJob's
 * notification handlers do. `close()` aborts deliveries still in flight.
 *
 * Props: `webhook.url` (required), `webhook.connect.timeout.milliseconds` (3000),
 * `webhook.read.timeout.milliseconds` (5000); see the module notes of the HTTP job for how the two
 * timeouts map onto `fetch`.
 */
export class WebhookJobErrorHandler implements JobErrorHandler {
  /** Always `WEBHOOK`. */
  readonly type = 'WEBHOOK';
  /** The webhook URL. */
  readonly url: string;
  /** Connect timeout in ms. */
  readonly connectTimeoutMs: number;
  /** Read timeout in ms. */
  readonly readTimeoutMs: number;
  readonly #logger: Logger;
  readonly #inFlight = new Set<AbortController>();

  /**
   * @param props - the job's props.
   * @param logger - where delivery failures go.
   * @throws {JobConfigurationError} (field `props.{prop}`) when `webhook.url` is missing or not an
   * http(s) URL, or a timeout is not a positive integer.
   */
  constructor(props: Props, logger: Logger) {
    const owner = { what: "jobErrorHandlerType 'WEBHOOK'" };
    const url = requiredProp(props, WEBHOOK_URL_PROP, owner);
    if (!isHttpUrl(url)) {
      throw propError(owner, WEBHOOK_URL_PROP, `must be an http: or https: URL, got '${url}'`);
    }
    this.url = url;
    this.connectTimeoutMs = positiveIntegerProp(props, WEBHOOK_CONNECT_TIMEOUT_PROP, 3000, owner);
    this.readTimeoutMs = positiveIntegerProp(props, WEBHOOK_READ_TIMEOUT_PROP, 5000, owner);
    this.#logger = logger;
  }

  /** Posts the error; resolves when delivered or failed, never rejects. */
  async handleException(jobName: string, error: unknown): Promise<void> {
    const payload: WebhookPayload = {
      jobName,
      message: `${jobErrorMessage(jobName)}, caused by ${error instanceof Error ? error.message : String(error)}`,
      stack: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
    const controller = new AbortController();
    this.#inFlight.add(controller);
    try {
      const response = await sendHttpRequest({
        url: this.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        connectTimeoutMs: this.connectTimeoutMs,
        readTimeoutMs: this.readTimeoutMs,
        signal: controller.signal,
      });
      if (response.status >= 400) {
        this.#logger.error(
          { jobName, url: this.url, status: response.status, body: response.bodyStart },
          `Job '${jobName}' error webhook answered HTTP ${response.status}`,
        );
      }
    } catch (deliveryError) {
      this.#logger.error(
        { jobName, url: this.url, err: deliveryError },
        `Job '${jobName}' error webhook delivery failed`,
      );
    } finally {
      this.#inFlight.delete(controller);
    }
  }

  /** Aborts deliveries still in flight (they log their failure). */
  close(): void {
    for (const controller of this.#inFlight) controller.abort(new Error('error handler closed'));
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
