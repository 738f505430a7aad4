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

/** Formats ms with 3 significant decimals for tables. */
export function formatMs(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);
}

/** Renders a markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
