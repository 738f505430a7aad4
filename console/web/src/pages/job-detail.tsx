/** Job detail: status, operations, the sharding map, servers, configuration (and its editor). */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, call, type JobDetail } from '../api';
import { Badge, ConfirmDialog } from '../components/status';
import { canConfigure, canOperate, type PageProps } from '../main';
import { ConfigEditor } from './config-editor';

interface PendingConfirm {
  title: string;
  body: ComponentChildren;
  label: string;
  run: () => Promise<unknown>;
}

export function JobDetailPage({ session, lastEvent, jobName }: PageProps & { jobName: string }) {
  const [detail, setDetail] = useState<JobDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState<PendingConfirm | undefined>();
  const path = `/jobs/${encodeURIComponent(jobName)}`;

  const load = useCallback(async () => {
    try {
      setDetail(await call<JobDetail>('GET', path));
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.problem.detail : String(failure));
    }
  }, [path]);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    const event = lastEvent?.event;
    if (event?.type === 'job' && event.jobName === jobName) void load();
  }, [lastEvent, jobName, load]);

  const operate = async (label: string, method: string, suffix: string) => {
    try {
      await call(method, `${path}${suffix}`);
      setNotice(`${label}: done`);
      if (method === 'DELETE') location.hash = '#/jobs';
    } catch (failure) {
      setNotice(`${label}: ${failure instanceof ApiError ? failure.problem.detail : String(failure)}`);
    }
  };
  const ask = (title: string, body: ComponentChildren, label: string, run: () => Promise<unknown>) =>
    setConfirm({ title, body, label, run });

  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!detail) return <p class="loading">Loading…</p>;
  const operateAllowed = canOperate(session);
  const configureAllowed = canConfigure(session);
  const { job } = detail;
  return (
    <section aria-labelledby="job-title">
      <p class="crumbs">
        <a href="#/jobs">Jobs</a> /
      </p>
      <h2 id="job-title">
        {job.jobName} <Badge status={job.status} />
      </h2>
      <dl class="facts">
        <dt>Cron</dt>
        <dd>
          <code>{job.cron || 'one-off'}</code>
        </dd>
        <dt>Instances</dt>
        <dd>{job.instanceCount}</dd>
        <dt>Sharding total count</dt>
        <dd>{job.shardingTotalCount}</dd>
        <dt>Leader</dt>
        <dd>{detail.leader ?? 'none'}</dd>
        {job.description && (
          <>
            <dt>Description</dt>
            <dd>{job.description}</dd>
          </>
        )}
      </dl>
      {job.error && (
        <p class="error" role="alert">
          Stored configuration is invalid: {job.error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {operateAllowed && (
        <fieldset class="toolbar">
          <legend class="visually-hidden">Job operations</legend>
          <button type="button" onClick={() => operate('Trigger', 'POST', '/trigger')}>
            Trigger now
          </button>
          <button type="button" onClick={() => operate('Disable', 'POST', '/disable')}>
            Disable
          </button>
          <button type="button" onClick={() => operate('Enable', 'POST', '/enable')}>
            Enable
          </button>
          <button
            type="button"
            class="danger"
            onClick={() =>
              ask(
                'Shut the job down?',
                <p>Every instance of {jobName} stops the job and leaves the cluster.</p>,
                'Shut down',
                () => operate('Shutdown', 'POST', '/shutdown'),
              )
            }
          >
            Shut down…
          </button>
          {configureAllowed && (
            <button
              type="button"
              class="danger"
              onClick={() =>
                ask(
                  'Remove the job?',
                  <p>
                    Every instance shuts the job down, and {jobName} is deleted from the registry with its
                    configuration.
                  </p>,
                  'Remove',
                  () => operate('Remove', 'DELETE', ''),
                )
              }
            >
              Remove…
            </button>
          )}
        </fieldset>
      )}

      <h3>Sharding</h3>
      <ul class="items" aria-label="Sharding items">
        {detail.items.map((item) => (
          <li class={`item s-${item.status.toLowerCase().replace(/_/g, '-')}`} data-item={item.item}>
            <span class="item-no">#{item.item}</span>
            <Badge status={item.status} />
            <span class="owner">{item.instanceId ?? 'unassigned'}</span>
            {item.failover && <span class="failover">failover → {item.failover}</span>}
            {operateAllowed && (
              <button
                type="button"
                class="small"
                aria-label={`${item.disabled ? 'Enable' : 'Disable'} item ${item.item}`}
                onClick={() =>
                  operate(
                    `Item ${item.item}`,
                    'POST',
                    `/items/${item.item}/${item.disabled ? 'enable' : 'disable'}`,
                  )
                }
              >
                {item.disabled ? 'Enable' : 'Disable'}
              </button>
            )}
          </li>
        ))}
      </ul>

      <h3>Servers</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">Status</th>
              <th scope="col">Instances</th>
              {operateAllowed && <th scope="col">Operations</th>}
            </tr>
          </thead>
          <tbody>
            {detail.servers.map((server) => {
              const base = `/servers/${encodeURIComponent(server.serverIp)}`;
              return (
                <tr>
                  <th scope="row" data-label="Server">
                    {server.serverIp}
                  </th>
                  <td data-label="Status">
                    <Badge status={server.status ?? 'UNKNOWN'} />
                  </td>
                  <td data-label="Instances">{server.instances.join(', ') || 'none'}</td>
                  {operateAllowed && (
                    <td data-label="Operations" class="row-actions">
                      <button
                        type="button"
                        class="small"
                        onClick={() =>
                          operate(
                            server.serverIp,
                            'POST',
                            `${base}/${server.status === 'DISABLED' ? 'enable' : 'disable'}`,
                          )
                        }
                      >
                        {server.status === 'DISABLED' ? 'Enable' : 'Disable'}
                      </button>
                      <button
                        type="button"
                        class="small danger"
                        onClick={() =>
                          ask(
                            'Shut down on this server?',
                            <p>
                              The instances of {jobName} on {server.serverIp} stop the job.
                            </p>,
                            'Shut down',
                            () => operate(server.serverIp, 'POST', `${base}/shutdown`),
                          )
                        }
                      >
                        Shut down…
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <h3>Configuration</h3>
      {editing && detail.configuration ? (
        <ConfigEditor
          jobName={jobName}
          configuration={detail.configuration}
          version={detail.stored.version}
          onDone={(saved) => {
            setEditing(false);
            if (saved) setNotice('Configuration saved');
            void load();
          }}
        />
      ) : (
        <>
          <section aria-label="Stored configuration (YAML)">
            <pre class="yaml">{detail.stored.yaml}</pre>
          </section>
          {configureAllowed && detail.configuration && (
            <button type="button" onClick={() => setEditing(true)}>
              Edit configuration
            </button>
          )}
        </>
      )}
      {confirm && (
        <ConfirmDialog
          title={confirm.title}
          confirmLabel={confirm.label}
          danger
          onCancel={() => setConfirm(undefined)}
          onConfirm={() => {
            const run = confirm.run;
            setConfirm(undefined);
            void run();
          }}
        >
          {confirm.body}
        </ConfirmDialog>
      )}
    </section>
  );
}
