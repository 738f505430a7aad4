/**
 * Configuration edit: a validated form, a diff of the change before saving, and a save that is
 * conditional on the version read (a concurrent change is reported, never overwritten).
 */
import { diffLines } from 'diff';
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';

type Field = {
  name: string;
  label: string;
  kind: 'text' | 'number' | 'boolean' | 'props';
  help?: string;
};

const FIELDS: readonly Field[] = [
  { name: 'cron', label: 'Cron', kind: 'text', help: "Quartz cron, e.g. 0 0/5 * * * ? ('' = one-off job)" },
  {
    name: 'timeZone',
    label: 'Time zone',
    kind: 'text',
    help: 'IANA name, e.g. Europe/Berlin; empty = the instance\u2019s',
  },
  { name: 'shardingTotalCount', label: 'Sharding total count', kind: 'number' },
  {
    name: 'shardingItemParameters',
    label: 'Sharding item parameters',
    kind: 'text',
    help: '0=Beijing,1=Shanghai',
  },
  { name: 'jobParameter', label: 'Job parameter', kind: 'text' },
  { name: 'description', label: 'Description', kind: 'text' },
  { name: 'maxTimeDiffSeconds', label: 'Max time difference (s)', kind: 'number', help: '-1 = not checked' },
  { name: 'reconcileIntervalMinutes', label: 'Reconcile interval (min)', kind: 'number' },
  { name: 'jobShardingStrategyType', label: 'Sharding strategy', kind: 'text' },
  { name: 'jobErrorHandlerType', label: 'Error handler', kind: 'text' },
  { name: 'monitorExecution', label: 'Monitor execution', kind: 'boolean' },
  { name: 'failover', label: 'Failover', kind: 'boolean' },
  { name: 'misfire', label: 'Misfire', kind: 'boolean' },
  { name: 'disabled', label: 'Disabled at start', kind: 'boolean' },
  { name: 'props', label: 'Properties', kind: 'props', help: 'one key=value per line' },
];

/** The configuration as sorted `key: value` lines (what the diff compares). */
function lines(configuration: Record<string, unknown>): string {
  return Object.keys(configuration)
    .sort()
    .map((key) => `${key}: ${JSON.stringify(configuration[key])}`)
    .join('\n')
    .concat('\n');
}

function propsText(value: unknown): string {
  return Object.entries((value as Record<string, string>) ?? {})
    .map(([key, each]) => `${key}=${each}`)
    .join('\n');
}

function parseProps(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const index = line.indexOf('=');
    if (index <= 0) throw new Error(`props: "${line}" is not key=value`);
    result[line.slice(0, index).trim()] = line.slice(index + 1);
  }
  return result;
}

export function ConfigEditor(props: {
  jobName: string;
  configuration: Record<string, unknown>;
  version: string;
  onDone: (saved: boolean) => void;
}) {
  // The form edits the configuration as it was when the editor opened: the save is conditional on
  // that version, never on a newer one the live feed brings while the operator types (that would
  // overwrite the other change with the form's stale values).
  const [opened] = useState(() => ({ configuration: props.configuration, version: props.version }));
  const [values, setValues] = useState<Record<string, unknown>>(() => ({ ...props.configuration }));
  const [propsDraft, setPropsDraft] = useState(propsText(props.configuration.props));
  const [review, setReview] = useState<Record<string, unknown> | undefined>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const set = (name: string, value: unknown) => setValues((previous) => ({ ...previous, [name]: value }));

  const build = (): Record<string, unknown> | undefined => {
    const next: Record<string, unknown> = { ...values };
    try {
      next.props = parseProps(propsDraft);
    } catch (error) {
      setErrors({ props: (error as Error).message });
      return undefined;
    }
    if (next.timeZone === '') delete next.timeZone;
    for (const field of FIELDS) {
      if (field.kind === 'number' && (next[field.name] === '' || Number.isNaN(next[field.name]))) {
        setErrors({ [field.name]: `${field.label} must be a number` });
        return undefined;
      }
    }
    setErrors({});
    return next;
  };

  const save = async () => {
    if (review === undefined) return;
    setBusy(true);
    try {
      const { jobName: _ignored, ...body } = review;
      await call('PUT', `/jobs/${encodeURIComponent(props.jobName)}/config`, body, {
        'If-Match': `"${opened.version}"`,
      });
      props.onDone(true);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const fieldErrors: Record<string, string> = {};
      for (const issue of error.problem.errors ?? [])
        fieldErrors[issue.field.replace(/^body\.?/, '')] = issue.message;
      setErrors(fieldErrors);
      setMessage(
        error.problem.status === 412
          ? 'Someone changed this configuration after you opened it. Nothing was saved: cancel and edit again.'
          : error.problem.detail,
      );
      setReview(undefined);
    } finally {
      setBusy(false);
    }
  };

  if (review !== undefined) {
    const parts = diffLines(lines(opened.configuration), lines(review));
    const changed = parts.some((part) => part.added || part.removed);
    return (
      <section class="editor" aria-labelledby="review-title">
        <h3 id="review-title">Review the change</h3>
        {changed ? (
          <section aria-label="Changes">
            <pre class="diff">
              {parts
                .filter((part) => part.added || part.removed)
                .map((part) => (
                  <span class={part.added ? 'add' : 'del'}>
                    {part.value
                      .replace(/\n$/, '')
                      .split('\n')
                      .map((line) => `${part.added ? '+ ' : '- '}${line}\n`)}
                  </span>
                ))}
            </pre>
          </section>
        ) : (
          <p class="hint">No change.</p>
        )}
        <div class="actions">
          <button type="button" onClick={() => setReview(undefined)}>
            Back to the form
          </button>
          <button type="button" class="primary" disabled={!changed || busy} onClick={save}>
            Save
          </button>
        </div>
      </section>
    );
  }

  return (
    <form
      class="editor"
      aria-labelledby="edit-title"
      onSubmit={(event) => {
        event.preventDefault();
        const next = build();
        if (next) setReview(next);
      }}
    >
      <h3 id="edit-title">Edit configuration</h3>
      {props.version !== opened.version && (
        <p class="error" role="alert">
          Someone changed this configuration after you opened it: saving will be refused. Cancel and edit
          again to start from the current one.
        </p>
      )}
      {message && (
        <p class="error" role="alert">
          {message}
        </p>
      )}
      <div class="form-grid">
        {FIELDS.map((field) => {
          const id = `cfg-${field.name}`;
          const error = errors[field.name];
          const describedBy =
            [field.help ? `${id}-help` : '', error ? `${id}-error` : ''].join(' ').trim() || undefined;
          const value = values[field.name];
          return (
            <div class={`field ${field.kind}`}>
              <label for={id}>{field.label}</label>
              {field.kind === 'boolean' ? (
                <input
                  id={id}
                  type="checkbox"
                  checked={value === true}
                  aria-describedby={describedBy}
                  onChange={(event) => set(field.name, (event.target as HTMLInputElement).checked)}
                />
              ) : field.kind === 'props' ? (
                <textarea
                  id={id}
                  rows={3}
                  value={propsDraft}
                  aria-describedby={describedBy}
                  onInput={(event) => setPropsDraft((event.target as HTMLTextAreaElement).value)}
                />
              ) : (
                <input
                  id={id}
                  name={field.name}
                  type={(field.kind === 'number' ? 'number' : 'text') as 'text'}
                  value={value === undefined || value === null ? '' : String(value)}
                  aria-invalid={error ? 'true' : undefined}
                  aria-describedby={describedBy}
                  onInput={(event) => {
                    const text = (event.target as HTMLInputElement).value;
                    set(field.name, field.kind === 'number' ? (text === '' ? '' : Number(text)) : text);
                  }}
                />
              )}
              {field.help && (
                <small id={`${id}-help`} class="help">
                  {field.help}
                </small>
              )}
              {error && (
                <small id={`${id}-error`} class="error">
                  {error}
                </small>
              )}
            </div>
          );
        })}
      </div>
      <div class="actions">
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
        <button type="submit" class="primary">
          Review changes
        </button>
      </div>
    </form>
  );
}
