/** Small SVG charts of a job's history: runs and failures per bucket, duration percentiles. */
import type { StatsBucket } from '../api';

const WIDTH = 600;
const HEIGHT = 160;
const PAD = 28;
/** Room an axis label takes (a date and an hour); none starts nearer the right edge. */
const LABEL_WIDTH = 80;

/** What one bar covers. */
export type Bucket = 'hour' | 'day';

function label(start: string, bucket: Bucket, spansDays: boolean): string {
  const date = new Date(start);
  const day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (bucket === 'day') return day;
  const hour = `${String(date.getHours()).padStart(2, '0')}:00`;
  return spansDays ? `${day} ${hour}` : hour;
}

/** Bars: runs (full height share) with failures overlaid; axis labels by hour, with the date when the range spans days. */
export function RunsChart({
  buckets,
  bucket = 'hour',
  spansDays = false,
}: {
  buckets: readonly StatsBucket[];
  bucket?: Bucket;
  spansDays?: boolean;
}) {
  const max = Math.max(1, ...buckets.map((bucket) => bucket.runs));
  const step = (WIDTH - PAD) / Math.max(1, buckets.length);
  const total = buckets.reduce((sum, bucket) => sum + bucket.runs, 0);
  const failed = buckets.reduce((sum, bucket) => sum + bucket.failures, 0);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Runs over time: ${total} runs, ${failed} failures`}
      >
        <text x="0" y="12" class="axis">
          {max}
        </text>
        {buckets.map((each, index) => {
          const x = PAD + index * step;
          const runs = ((HEIGHT - PAD) * each.runs) / max;
          const failures = ((HEIGHT - PAD) * each.failures) / max;
          return (
            <g>
              <title>{`${each.start}: ${each.runs} runs, ${each.failures} failures`}</title>
              <rect class="runs" x={x} y={HEIGHT - PAD - runs} width={Math.max(1, step - 2)} height={runs} />
              <rect
                class="failures"
                x={x}
                y={HEIGHT - PAD - failures}
                width={Math.max(1, step - 2)}
                height={failures}
              />
              {index % Math.ceil(buckets.length / 6) === 0 && x + LABEL_WIDTH <= WIDTH && (
                <text x={x} y={HEIGHT - 8} class="axis">
                  {label(each.start, bucket, spansDays)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        Runs <span class="key runs" /> and failures <span class="key failures" /> per bucket
      </figcaption>
    </figure>
  );
}

/** Lines: p50 and p95 duration per bucket. */
export function DurationChart({ buckets }: { buckets: readonly StatsBucket[] }) {
  const max = Math.max(1, ...buckets.map((bucket) => bucket.p95DurationMs ?? 0));
  const step = (WIDTH - PAD) / Math.max(1, buckets.length - 1);
  const points = (pick: (bucket: StatsBucket) => number | null) =>
    buckets
      .map((bucket, index) => [index, pick(bucket)] as const)
      .filter(([, value]) => value !== null)
      .map(
        ([index, value]) =>
          `${PAD + index * step},${HEIGHT - PAD - ((HEIGHT - PAD) * (value as number)) / max}`,
      )
      .join(' ');
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Duration percentiles, up to ${Math.round(max)} ms`}
      >
        <text x="0" y="12" class="axis">
          {Math.round(max)} ms
        </text>
        <polyline class="p95" points={points((bucket) => bucket.p95DurationMs)} />
        <polyline class="p50" points={points((bucket) => bucket.p50DurationMs)} />
      </svg>
      <figcaption>
        Duration p50 <span class="key p50" /> and p95 <span class="key p95" />
      </figcaption>
    </figure>
  );
}
