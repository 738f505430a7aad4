/**
 * Opaque keyset cursors: the (time, id) of the last row of a page, base64url-encoded JSON.
 *
 * @module
 */
import { HistoryQueryError } from './history-types.js';

/** The position after which the next page starts. */
export interface CursorPosition {
  /** Epoch ms of the last row. */
  readonly timeMs: number;
  /** Id of the last row. */
  readonly id: string;
}

/**
 * Encodes a position as a cursor string.
 *
 * @param position - the last row's time and id.
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.timeMs, position.id]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor}.
 *
 * @param cursor - the cursor string.
 * @throws {HistoryQueryError} when it is not such a cursor.
 */
export function decodeCursor(cursor: string): CursorPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { timeMs: value[0], id: value[1] };
    }
  } catch {
    // reported below with the accepted form
  }
  throw new HistoryQueryError(`cursor '${cursor}' is not a nextCursor returned by a previous page`);
}
