/**
 * Change-feed entries: their shape, and how they are read from a stream reply and from a pushed
 * feed message.
 *
 * @module
 */
import type { RegistryEventType } from '@elasticjob-ts/core/adapter';

/** One change-feed entry. */
export interface FeedEntry {
  /** Stream id (`{ms}-{seq}`), increasing in commit order. */
  readonly id: string;
  /** Revision: 1 for the namespace's first entry, then consecutive. */
  readonly revision: number;
  readonly type: RegistryEventType;
  readonly key: string;
  readonly value: string;
}

/** A position in the change feed: the last entry's stream id and revision. */
export interface FeedPosition {
  readonly id: string;
  readonly revision: number;
}

/**
 * Compares two stream ids.
 *
 * @returns negative, 0 or positive like a comparator.
 */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/**
 * Parses a stream entry's fields.
 *
 * @param id - the stream id.
 * @param fields - `[name, value, ...]`.
 */
export function parseEntry(id: string, fields: string[]): FeedEntry {
  let revision = 0;
  let type = '';
  let key = '';
  let value = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const content = fields[i + 1] as string;
    if (name === 'n') revision = Number(content);
    else if (name === 't') type = content;
    else if (name === 'k') key = content;
    else if (name === 'v') value = content;
  }
  return { id, revision, type: type as RegistryEventType, key, value };
}

/**
 * Parses the entries of a stream reply (`XRANGE`: `[[id, fields], ...]`).
 *
 * @param reply - the reply, `null` or empty for none.
 */
export function parseStreamReply(reply: ReadonlyArray<[string, string[]]> | null): FeedEntry[] {
  return (reply ?? []).map(([id, fields]) => parseEntry(id, fields));
}

/**
 * Parses a pushed feed message: the JSON array `[[id, revision, type, path, value], ...]` a script
 * publishes (see `lua.ts`).
 *
 * @param message - the message text.
 * @throws {Error} naming the message when it is not such an array.
 */
export function parsePushedEntries(message: string): FeedEntry[] {
  const rows: unknown = JSON.parse(message);
  if (!Array.isArray(rows)) throw new Error(`feed message is not an array: ${message.slice(0, 100)}`);
  return rows.map((row: unknown) => {
    if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== 'string') {
      throw new Error(`feed message entry is not [id, revision, type, path, value]: ${JSON.stringify(row)}`);
    }
    const [id, revision, type, key, value] = row as [string, number, string, string, string];
    return { id, revision: Number(revision), type: type as RegistryEventType, key, value: String(value) };
  });
}
