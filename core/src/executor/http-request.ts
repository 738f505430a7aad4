/**
 * Internal: one HTTP request over Node's built-in `fetch` with ElasticJob's two timeouts, used by
 * the `HTTP` job and the `WEBHOOK` error handler.
 *
 * `fetch` does not expose the TCP connect phase, so the timeouts are applied as upper bounds that
 * match Java's `HttpURLConnection` worst case: the response headers must arrive within
 * `connectTimeoutMs + readTimeoutMs`, and then the body must make progress at least every
 * `readTimeoutMs`.
 *
 * @module
 */

/** What to send. */
export interface HttpRequest {
  readonly url: string;
  /** Upper-case method. */
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Request body, or `undefined` for none. */
  readonly body?: string;
  /** Connect timeout in ms; see the module notes. */
  readonly connectTimeoutMs: number;
  /** Read timeout in ms; see the module notes. */
  readonly readTimeoutMs: number;
  /** Aborts the request (the caller's run was aborted). */
  readonly signal?: AbortSignal;
  /** How many characters of the response body to keep. @defaultValue 1024 */
  readonly maxBodyChars?: number;
}

/** What came back. */
export interface HttpResponse {
  readonly status: number;
  /** The start of the body, at most `maxBodyChars` characters. */
  readonly bodyStart: string;
}

/**
 * Sends one request and reads (and discards past `maxBodyChars`) the whole response body.
 *
 * @returns the status and the body's start, for any status.
 * @throws {Error} on network failure; `'timed out ...'` message when a timeout elapsed; the abort
 * reason (or an `AbortError`) when `signal` aborted.
 */
export async function sendHttpRequest(request: HttpRequest): Promise<HttpResponse> {
  const { signal } = request;
  signal?.throwIfAborted();
  const controller = new AbortController();
  let timeoutMessage: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (delayMs: number, message: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timeoutMessage = message;
      controller.abort(new Error(message));
    }, delayMs);
  };
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const headersTimeoutMs = request.connectTimeoutMs + request.readTimeoutMs;
    arm(
      headersTimeoutMs,
      `timed out after ${headersTimeoutMs} ms waiting for the response ` +
        `(connect ${request.connectTimeoutMs} ms + read ${request.readTimeoutMs} ms)`,
    );
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
    });
    const maxBodyChars = request.maxBodyChars ?? 1024;
    let bodyStart = '';
    if (response.body !== null) {
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      for (;;) {
        arm(request.readTimeoutMs, `timed out after ${request.readTimeoutMs} ms reading the response body`);
        const chunk = await reader.read();
        if (chunk.done) break;
        if (bodyStart.length < maxBodyChars) {
          bodyStart += decoder.decode(chunk.value, { stream: true });
        }
      }
      bodyStart = bodyStart.slice(0, maxBodyChars);
    }
    return { status: response.status, bodyStart };
  } catch (error) {
    if (timeoutMessage !== undefined) throw new Error(timeoutMessage, { cause: error });
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
