/** History: search executions with filters, a task's status trace, and a job's charts. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Execution, type Page, type StatsBucket, type StatusTrace } from '../api';
import { type Bucket, DurationChart, RunsChart } from '../components/charts';
import { Badge } from '../components/status';
import type { PageProps } from '../main';

const FILTERS = ['job', 'item', 'ip', 'success', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function query(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = filters[name];
    if (value === undefined || value === '') continue;
    params.set(name, name === 'from' || name === 'to' ? new Date(value).toISOString() : value);
  }
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

const HOUR_MS = 3_600_000;
/** Up to this range the charts have a bar per hour; beyond it, per day. */
const HOURLY_UP_TO_MS = 7 * 24 * HOUR_MS;

/** The stats query of the charts: the filters' time range (default: the 24 hours before `to`). */
function statsQuery(filters: Filters): { query: string; bucket: Bucket; spansDays: boolean } {
  const toMs = filters.to ? new Date(filters.to).getTime() : Date.now();
  const fromMs = filters.from ? new Date(filters.from).getTime() : toMs - 24 * HOUR_MS;
  const bucket: Bucket = toMs - fromMs > HOURLY_UP_TO_MS ? 'day' : 'hour';
  const params = new URLSearchParams({ bucket });
  if (filters.from) params.set('from', new Date(fromMs).toISOString());
  if (filters.to) params.set('to', new Date(toMs).toISOString());
  return { query: params.toString(), bucket, spansDays: toMs - fromMs > 24 * HOUR_MS };
}

function StatusTraceView({ taskId }: { taskId: string }) {
  const [trace, setTrace] = useState<StatusTrace[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    call<Page<StatusTrace>>('GET', `/status-traces?taskId=${encodeURIComponent(taskId)}&limit=500`)
      .then((page) => setTrace(page.items))
      .catch((failure) => setError(failure instanceof ApiError ? failure.problem.detail : String(failure)));
  }, [taskId]);
  return (
    <section aria-labelledby="trace-title">
      <p class="crumbs">
        <a href="#/history">History</a> /
      </p>
      <h2 id="trace-title">Status trace</h2>
      <p>
        <code class="wrap">{taskId}</code>
      </p>
      {error && <p class="error">{error}</p>}
      <ol class="trace">
        {trace?.map((row) => (
          <li>
            <time dateTime={row.creationTime}>{new Date(row.creationTime).toLocaleString()}</time>{' '}
            <Badge status={row.state} /> items {row.shardingItem}{' '}
            {row.message && <span class="message">{row.message}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function HistoryPage({ session, taskId }: PageProps & { taskId: string | undefined }) {
  const [filters, setFilters] = useState<Filters>({});
  const [pages, setPages] = useState<Execution[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [stats, setStats] = useState<
    { buckets: StatsBucket[]; bucket: Bucket; spansDays: boolean } | undefined
  >();
  const [error, setError] = useState<string | undefined>();
  const [searched, setSearched] = useState(false);

  if (!session.historyAvailable) {
    return (
      <section>
        <h2>History</h2>
        <p class="hint">
          No execution history is configured: start the console with --history &lt;db-url&gt;.
        </p>
      </section>
    );
  }
  if (taskId !== undefined) return <StatusTraceView taskId={taskId} />;

  const search = async (event?: Event, cursor?: string) => {
    event?.preventDefault();
    try {
      const page = await call<Page<Execution>>('GET', `/executions?${query(filters, cursor)}`);
      setPages((previous) => (cursor ? [...previous, page.items] : [page.items]));
      setNext(page.nextCursor);
      setError(undefined);
      setSearched(true);
      if (filters.job) {
        const { query: statsParams, bucket, spansDays } = statsQuery(filters);
        const buckets = await call<StatsBucket[]>(
          'GET',
          `/jobs/${encodeURIComponent(filters.job)}/stats?${statsParams}`,
        );
        setStats({ buckets, bucket, spansDays });
      } else {
        setStats(undefined);
      }
    } catch (failure) {
      setError(
        failure instanceof ApiError
          ? `${failure.problem.field ?? ''} ${failure.problem.detail}`
          : String(failure),
      );
    }
  };
  const input = (
    name: (typeof FILTERS)[number],
    label: string,
    type: 'text' | 'number' | 'datetime-local' = 'text',
  ) => (
    <label>
      {label}
      <input
        name={name}
        type={type as 'text'}
        value={filters[name] ?? ''}
        onInput={(event) => setFilters({ ...filters, [name]: (event.target as HTMLInputElement).value })}
      />
    </label>
  );
  const rows = pages.flat();
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <form class="filters" aria-label="Search executions" onSubmit={(event) => search(event)}>
        {input('job', 'Job')}
        {input('item', 'Item', 'number')}
        {input('ip', 'IP')}
        <label>
          Result
          <select
            name="success"
            value={filters.success ?? ''}
            onChange={(event) =>
              setFilters({ ...filters, success: (event.target as HTMLSelectElement).value })
            }
          >
            <option value="">any</option>
            <option value="true">succeeded</option>
            <option value="false">failed</option>
          </select>
        </label>
        {input('from', 'From', 'datetime-local')}
        {input('to', 'To', 'datetime-local')}
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {stats && stats.buckets.length > 0 && (
        <div class="charts">
          <RunsChart buckets={stats.buckets} bucket={stats.bucket} spansDays={stats.spansDays} />
          <DurationChart buckets={stats.buckets} />
        </div>
      )}
      {searched && (
        <div class="table-wrap">
          <table class="executions">
            <caption class="visually-hidden">Executions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Job</th>
                <th scope="col">Item</th>
                <th scope="col">Server</th>
                <th scope="col">Source</th>
                <th scope="col">Result</th>
                <th scope="col">Duration</th>
                <th scope="col">Trace</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr>
                  <td data-label="Started">{new Date(row.startTime).toLocaleString()}</td>
                  <td data-label="Job">{row.jobName}</td>
                  <td data-label="Item">{row.shardingItem}</td>
                  <td data-label="Server">{row.ip}</td>
                  <td data-label="Source">{row.executionSource}</td>
                  <td data-label="Result">
                    <Badge status={row.completeTime === null ? 'RUNNING' : row.success ? 'OK' : 'FAILED'} />
                    {row.failureCause && <span class="message"> {row.failureCause.split('\n')[0]}</span>}
                  </td>
                  <td data-label="Duration">
                    {row.completeTime === null
                      ? '—'
                      : `${Date.parse(row.completeTime) - Date.parse(row.startTime)} ms`}
                  </td>
                  <td data-label="Trace">
                    <a href={`#/history/task/${encodeURIComponent(row.taskId)}`}>status trace</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p class="hint">No execution matches.</p>}
          {next && (
            <button type="button" onClick={() => search(undefined, next)}>
              Load more
            </button>
          )}
        </div>
      )}
    </section>
  );
}
