/**
 * Output helpers of the `elasticjob` CLI: aligned text tables and stable JSON.
 *
 * @module
 */

/**
 * Renders rows as an aligned text table: a header line, then one line per row; columns separated by
 * two spaces, trailing spaces trimmed. Empty cells show as `-`.
 *
 * @param headers - column titles.
 * @param rows - cells per row (as many as headers).
 * @returns the table, each line ending with `\n`.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => headers.map((_, index) => cellText(row[index])));
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((row) => row[index]!.length)),
  );
  const line = (values: readonly string[]) =>
    `${values
      .map((value, index) => (index === values.length - 1 ? value : value.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd()}\n`;
  return [line(headers), ...cells.map(line)].join('');
}

/**
 * Renders `key value` pairs with the values aligned.
 *
 * @param pairs - `[key, value]` entries in display order.
 * @param indent - spaces before each key.
 */
export function formatPairs(pairs: readonly (readonly [string, unknown])[], indent = 0): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs
    .map(([key, value]) =>
      `${' '.repeat(indent)}${`${key}:`.padEnd(width + 1)}  ${cellText(value)}`.trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function cellText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(String).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  // One line per cell: line breaks would break the table.
  return String(value).replace(/\r?\n/g, ' ');
}

/**
 * JSON for scripts: two-space indented, `undefined` properties written as `null` so that every
 * documented key is always present.
 *
 * @param value - the value to print.
 * @returns the JSON text and a final `\n`.
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, item: unknown) => (item === undefined ? null : item), 2)}\n`;
}
