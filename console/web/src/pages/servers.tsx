/** Servers (IPs) across jobs, and every live instance. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, call, type InstanceInfo, type ServerInfo } from '../api';
import { Badge, ConfirmDialog } from '../components/status';
import { canOperate, type PageProps } from '../main';

export function ServersPage({ session, lastEvent }: PageProps) {
  const [servers, setServers] = useState<ServerInfo[]>([]);
  const [instances, setInstances] = useState<InstanceInfo[]>([]);
  const [notice, setNotice] = useState<string | undefined>();
  const [shutdownIp, setShutdownIp] = useState<string | undefined>();
  const load = useCallback(async () => {
    const [serverList, instanceList] = await Promise.all([
      call<ServerInfo[]>('GET', '/servers'),
      call<InstanceInfo[]>('GET', '/instances'),
    ]);
    setServers(serverList);
    setInstances(instanceList);
  }, []);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (lastEvent?.event.type === 'servers') void load();
  }, [lastEvent, load]);
  const operate = async (ip: string, operation: string) => {
    try {
      await call('POST', `/servers/${encodeURIComponent(ip)}/${operation}`);
      setNotice(`${operation} ${ip}: done`);
      await load();
    } catch (failure) {
      setNotice(
        `${operation} ${ip}: ${failure instanceof ApiError ? failure.problem.detail : String(failure)}`,
      );
    }
  };
  const allowed = canOperate(session);
  return (
    <section aria-labelledby="servers-title">
      <h2 id="servers-title">Servers</h2>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">Instances</th>
              <th scope="col">Jobs</th>
              <th scope="col">Disabled in</th>
              {allowed && <th scope="col">In every job</th>}
            </tr>
          </thead>
          <tbody>
            {servers.map((server) => (
              <tr>
                <th scope="row" data-label="Server">
                  {server.serverIp}
                </th>
                <td data-label="Instances">{server.instancesNum}</td>
                <td data-label="Jobs">
                  {server.jobNames.map((job, index) => (
                    <>
                      {index > 0 && ', '}
                      <a href={`#/job/${encodeURIComponent(job)}`}>{job}</a>
                    </>
                  ))}
                </td>
                <td data-label="Disabled in">
                  {server.disabledJobsNum} of {server.jobsNum}
                </td>
                {allowed && (
                  <td data-label="In every job" class="row-actions">
                    <button type="button" class="small" onClick={() => operate(server.serverIp, 'disable')}>
                      Disable
                    </button>
                    <button type="button" class="small" onClick={() => operate(server.serverIp, 'enable')}>
                      Enable
                    </button>
                    <button type="button" class="small danger" onClick={() => setShutdownIp(server.serverIp)}>
                      Shut down…
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Instances</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Instance</th>
              <th scope="col">Server</th>
              <th scope="col">Server status</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((instance) => (
              <tr>
                <td data-label="Job">
                  <a href={`#/job/${encodeURIComponent(instance.jobName)}`}>{instance.jobName}</a>
                </td>
                <td data-label="Instance">{instance.instanceId}</td>
                <td data-label="Server">{instance.serverIp}</td>
                <td data-label="Server status">
                  <Badge status={instance.serverStatus ?? 'UNKNOWN'} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shutdownIp && (
        <ConfirmDialog
          title="Shut the server down in every job?"
          confirmLabel="Shut down"
          danger
          onCancel={() => setShutdownIp(undefined)}
          onConfirm={() => {
            const ip = shutdownIp;
            setShutdownIp(undefined);
            void operate(ip, 'shutdown');
          }}
        >
          <p>Every job instance on {shutdownIp} stops its job and leaves the cluster.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
