/**
 * {@link openHistorySource}: opens the execution history named by a database URL through the
 * tracing package (`@elasticjob-ts/tracing`), loaded on demand.
 *
 * @module
 */
import type { HistorySource } from './history-source.js';

/** The history cannot be opened; `field` names the option (`history`). */
export class HistoryUnavailableError extends Error {
  readonly field = 'history';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsoleOptionsError';
  }
}

/** What the console needs from the tracing package. */
interface TracingModule {
  openHistorySource?: (url: string) => Promise<HistorySource>;
}

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
  if (typeof module.openHistorySource !== 'function') {
    throw new HistoryUnavailableError(
      `${specifier} does not provide the history query API this console needs`,
    );
  }
  return module.openHistorySource(url);
}
