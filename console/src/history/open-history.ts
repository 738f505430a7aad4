/**
 * {@link openHistorySource}: opens the execution history named by a database URL through the
 * tracing package (`@elasticjob-ts/tracing`), loaded on demand.
 *
 * @module
 */
import type { HistorySource } from './history-source.js';
import { tracingHistorySource } from './tracing-history-source.js';

/** The history cannot be opened; `field` names the option (`history`). */
export class HistoryUnavailableError extends Error {
  readonly field = 'history';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsoleOptionsError';
  }
}

/** What the console needs from the tracing package. */
type TracingModule = Pick<typeof import('@elasticjob-ts/tracing'), 'openHistoryStore'>;

/**
 * Opens the history at `url` (`sqlite:./history.db`, `postgres://...`).
 *
 * @throws {HistoryUnavailableError} when the tracing package is not installed or cannot open the URL
 *   (the message never repeats the URL's password).
 */
export async function openHistorySource(url: string): Promise<HistorySource> {
  const specifier = '@elasticjob-ts/tracing';
  let module: TracingModule;
  try {
    module = (await import(specifier)) as TracingModule;
  } catch (error) {
    throw new HistoryUnavailableError(`--history needs the package ${specifier}: npm install ${specifier}`, {
      cause: error,
    });
  }
  if (typeof module.openHistoryStore !== 'function') {
    throw new HistoryUnavailableError(
      `${specifier} does not provide the history query API this console needs`,
    );
  }
  let store: Awaited<ReturnType<TracingModule['openHistoryStore']>>;
  try {
    store = await module.openHistoryStore(url);
  } catch (error) {
    // The tracing package names the problem; its messages never include the URL's password.
    throw new HistoryUnavailableError(`--history: ${(error as Error).message}`, { cause: error });
  }
  return tracingHistorySource(store.queries, () => store.close());
}
