/**
 * Parses the history database URL that selects a backend: `sqlite:./history.db`,
 * `sqlite:/var/lib/app/history.db`, `sqlite::memory:`, or `postgres://user:pass@host:5432/db`
 * (`postgresql://` too).
 *
 * @module
 */

/** A parsed history database location. */
export type HistoryDatabaseLocation =
  | {
      readonly backend: 'sqlite';
      /** File path (relative to the working directory) or `:memory:`. */
      readonly filename: string;
    }
  | {
      readonly backend: 'postgres';
      /** The connection string as given (passed to `pg`). */
      readonly connectionString: string;
    };

/** A history database URL that cannot be used; `message` names the accepted forms. */
export class HistoryUrlError extends Error {
  override readonly name = 'HistoryUrlError';

  /**
   * @param url - the rejected URL (passwords are masked in the message).
   * @param reason - what is wrong.
   */
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `Invalid history database URL '${maskPassword(url)}': ${reason}. ` +
        "Accepted: 'sqlite:<file>' (e.g. sqlite:./history.db, sqlite::memory:) or 'postgres://user@host:port/database'.",
    );
  }
}

/**
 * Parses a history database URL.
 *
 * @param url - e.g. `sqlite:./history.db` or `postgres://postgres@127.0.0.1:5432/postgres`.
 * @returns the backend and its location.
 * @throws {HistoryUrlError} for an empty URL, an unknown scheme or a `sqlite:` URL without a file.
 */
export function parseHistoryUrl(url: string): HistoryDatabaseLocation {
  const trimmed = url.trim();
  if (trimmed === '') throw new HistoryUrlError(url, 'the URL is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    let filename = trimmed.slice('sqlite:'.length);
    if (filename.startsWith('//')) filename = filename.slice(2);
    if (filename === '') throw new HistoryUrlError(url, 'no file after sqlite:');
    return { backend: 'sqlite', filename };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    try {
      new URL(trimmed);
    } catch {
      throw new HistoryUrlError(url, 'not a valid URL');
    }
    return { backend: 'postgres', connectionString: trimmed };
  }
  throw new HistoryUrlError(url, scheme === undefined ? 'no scheme' : `unknown scheme '${scheme}'`);
}

/**
 * The URL with its password replaced by `***`, for logs and error messages.
 *
 * @param url - any URL string.
 */
export function maskPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}
