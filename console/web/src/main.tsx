/** The console's pages: a hash-routed Preact app over the REST API and its event stream. */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  call,
  type JobSummary,
  type LiveEvent,
  type RegistryInfo,
  type SessionInfo,
  setCsrfToken,
  setRegistry,
  subscribe,
} from './api';
import { HistoryPage } from './pages/history';
import { JobDetailPage } from './pages/job-detail';
import { JobsPage } from './pages/jobs';
import { LoginPage } from './pages/login';
import { ServersPage } from './pages/servers';
import './styles.css';

/** What every page gets. */
export interface PageProps {
  readonly session: SessionInfo;
  /** Bumped on every live event, with the last event, so pages can refresh what it touched. */
  readonly lastEvent: { event: LiveEvent; sequence: number } | undefined;
  readonly jobs: ReadonlyMap<string, JobSummary>;
}

function useHashRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'jobs').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Whether the role may operate jobs (and the console is not read-only). */
export function canOperate(session: SessionInfo): boolean {
  return !session.readOnly && (session.role === 'admin' || session.role === 'operator');
}

/** Whether the role may edit configuration and remove jobs. */
export function canConfigure(session: SessionInfo): boolean {
  return !session.readOnly && session.role === 'admin';
}

function App() {
  const [session, setSession] = useState<SessionInfo | undefined>();
  const [registries, setRegistries] = useState<RegistryInfo[]>([]);
  const [registry, selectRegistry] = useState<string | undefined>();
  const [jobs, setJobs] = useState<Map<string, JobSummary>>(new Map());
  const [live, setLive] = useState(false);
  const [lastEvent, setLastEvent] = useState<PageProps['lastEvent']>();
  const route = useHashRoute();

  const loadSession = useCallback(async () => {
    const info = await call<SessionInfo>('GET', '/session');
    setCsrfToken(info.csrfToken);
    setSession(info);
  }, []);
  useEffect(() => void loadSession(), [loadSession]);

  useEffect(() => {
    if (!session?.authenticated) return;
    void call<RegistryInfo[]>('GET', '/registries').then((list) => {
      setRegistries(list);
      const saved = sessionStorage.getItem('registry');
      selectRegistry(list.find((each) => each.id === saved)?.id ?? list[0]?.id);
    });
  }, [session?.authenticated]);

  useEffect(() => {
    if (registry === undefined) return;
    setRegistry(registry);
    sessionStorage.setItem('registry', registry);
    let sequence = 0;
    const refresh = () =>
      call<JobSummary[]>('GET', '/jobs').then((list) =>
        setJobs(new Map(list.map((job) => [job.jobName, job]))),
      );
    const close = subscribe((event) => {
      if (event.type === 'ready') void refresh();
      if (event.type === 'job') {
        setJobs((previous) => {
          const next = new Map(previous);
          if (event.summary === null) next.delete(event.jobName);
          else next.set(event.jobName, event.summary);
          return next;
        });
      }
      sequence += 1;
      setLastEvent({ event, sequence });
    }, setLive);
    return close;
  }, [registry]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (!session.authenticated) return <LoginPage onSignedIn={loadSession} />;

  const signOut = async () => {
    await call('DELETE', '/session');
    location.hash = '#/';
    await loadSession();
  };
  const [page, ...rest] = route;
  const props: PageProps = { session, lastEvent, jobs };
  const nav = [
    ['jobs', 'Jobs'],
    ['servers', 'Servers'],
    ['history', 'History'],
  ] as const;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>
          <a href="#/jobs">ElasticJob-TS</a>
        </h1>
        <nav aria-label="Main">
          {nav.map(([id, label]) => (
            <a
              href={`#/${id}`}
              aria-current={page === id || (id === 'jobs' && page === 'job') ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        <div class="session">
          {registries.length > 0 && (
            <label>
              <span class="visually-hidden">Registry</span>
              <select
                value={registry}
                onChange={(event) => selectRegistry((event.target as HTMLSelectElement).value)}
              >
                {registries.map((each) => (
                  <option value={each.id}>{each.label}</option>
                ))}
              </select>
            </label>
          )}
          <span class={`live ${live ? 'on' : 'off'}`} role="status" title="Live updates from the registry">
            {live ? 'live' : 'offline'}
          </span>
          <span class="who">
            {session.username} ({session.role}){session.readOnly ? ' · read-only' : ''}
          </span>
          {session.authRequired && (
            <button type="button" class="link" onClick={signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {registry === undefined ? (
          <p class="loading">Loading…</p>
        ) : page === 'job' && rest[0] !== undefined ? (
          <JobDetailPage key={`${registry}/${rest[0]}`} {...props} jobName={rest[0]} />
        ) : page === 'servers' ? (
          <ServersPage key={registry} {...props} />
        ) : page === 'history' ? (
          <HistoryPage key={registry} {...props} taskId={rest[0] === 'task' ? rest[1] : undefined} />
        ) : (
          <JobsPage key={registry} {...props} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
