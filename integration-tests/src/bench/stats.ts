/**
 * Small statistics helpers for benchmark scripts.
 *
 * @module
 */

/** Summary of a sample of durations, in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Nearest-rank percentile of `samples`.
 *
 * @param samples - durations in ms (not modified).
 * @param percentile - 0–100.
 */
export function percentile(samples: readonly number[], percentile: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Median, p99 and max of `samples` (ms). */
export function summarize(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    medianMs: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

/** Formats ms for tables: integers as they are, else 3 decimals below 10, 1 below 100. */
export function formatMs(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (Number.isInteger(value)) return String(value); // whole-ms clocks: no false decimals
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);
}

/** Renders a markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Min, median and max of repeated measurements. */
export interface Spread {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/**
 * Min / median / max of `samples` (NaN entries are dropped).
 *
 * @param samples - repeated measurements.
 * @returns the spread; every field NaN when nothing is left.
 */
export function spread(samples: readonly number[]): Spread {
  const values = samples.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (values.length === 0) return { count: 0, min: Number.NaN, median: Number.NaN, max: Number.NaN };
  return {
    count: values.length,
    min: values[0] as number,
    median: percentile(values, 50),
    max: values[values.length - 1] as number,
  };
}

/** `min / median / max` with {@link formatMs}. */
export function formatSpread(value: Spread): string {
  return value.count === 0
    ? 'n/a'
    : `${formatMs(value.min)} / ${formatMs(value.median)} / ${formatMs(value.max)}`;
}

/** One benchmark's printable result. */
export interface BenchTable {
  /** Stable key in `benchmarks.json`. */
  readonly id: string;
  readonly title: string;
  /** Conditions, printed under the title. */
  readonly caption: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Raw figures for the JSON file. */
  readonly data: unknown;
}

/**
 * Renders a {@link BenchTable} as markdown (title, caption, table).
 *
 * @param table - the result.
 */
export function renderTable(table: BenchTable): string {
  return `### ${table.title}\n\n${table.caption}\n\n${markdownTable(table.header, table.rows)}\n`;
}
