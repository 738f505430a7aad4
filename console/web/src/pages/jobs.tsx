/** Jobs overview: every job with its live status, searchable and filterable. */
import { useMemo, useState } from 'preact/hooks';
import type { JobStatus } from '../api';
import { Badge } from '../components/status';
import type { PageProps } from '../main';

const STATUSES: readonly JobStatus[] = ['OK', 'SHARDING_FLAG', 'DISABLED', 'CRASHED', 'INVALID_CONFIG'];

export function JobsPage({ jobs }: PageProps) {
  const [query, setQuery] = useState(new URLSearchParams(location.hash.split('?')[1]).get('q') ?? '');
  const [status, setStatus] = useState<string>('');
  const all = useMemo(() => [...jobs.values()].sort((a, b) => (a.jobName < b.jobName ? -1 : 1)), [jobs]);
  const counts = useMemo(() => {
    const result = new Map<string, number>();
    for (const job of all) result.set(job.status, (result.get(job.status) ?? 0) + 1);
    return result;
  }, [all]);
  const needle = query.trim().toLowerCase();
  const shown = all.filter(
    (job) =>
      (status === '' || job.status === status) &&
      (needle === '' ||
        job.jobName.toLowerCase().includes(needle) ||
        job.description.toLowerCase().includes(needle)),
  );
  const visible = shown.slice(0, 500);
  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <ul class="counts" aria-label="Jobs by status">
        <li>
          <strong>{all.length}</strong> jobs
        </li>
        {STATUSES.filter((each) => counts.has(each)).map((each) => (
          <li>
            <Badge status={each} /> <strong>{counts.get(each)}</strong>
          </li>
        ))}
      </ul>
      <div class="filters">
        <label>
          Search
          <input
            type="search"
            value={query}
            placeholder="job name or description"
            onInput={(event) => setQuery((event.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Status
          <select value={status} onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {STATUSES.map((each) => (
              <option value={each}>{each}</option>
            ))}
          </select>
        </label>
      </div>
      <div class="table-wrap">
        <table class="jobs">
          <caption class="visually-hidden">Jobs, updated live</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Cron</th>
              <th scope="col">Instances</th>
              <th scope="col">Items</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((job) => (
              <tr data-job={job.jobName} key={job.jobName}>
                <th scope="row" data-label="Job">
                  <a href={`#/job/${encodeURIComponent(job.jobName)}`}>{job.jobName}</a>
                </th>
                <td data-label="Status">
                  <Badge status={job.status} />
                </td>
                <td data-label="Cron">
                  <code>{job.status === 'INVALID_CONFIG' ? '—' : job.cron || 'one-off'}</code>
                </td>
                <td data-label="Instances">{job.instanceCount}</td>
                <td data-label="Items">{job.shardingTotalCount}</td>
                <td data-label="Description">{job.error ?? job.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown.length > visible.length && (
        <p class="hint">
          Showing {visible.length} of {shown.length}; narrow the search to see the others.
        </p>
      )}
      {all.length === 0 && (
        <p class="hint">No jobs in this namespace yet; they appear here as soon as an instance starts.</p>
      )}
    </section>
  );
}
