/**
 * The execution log every worker process writes and the checker reads: one line per event, one
 * `write(2)` per line on a file opened with `O_APPEND` and `fdatasync`ed, so a `kill -9` never
 * leaves half a line and lines of one process stay in order.
 *
 * Item lines (the job's own view of one sharding item):
 * ```text
 * {fireTimeMs} {instanceId} {item} start|end|abort {wallMs} {taskId}
 * ```
 * `fireTimeMs` is the scheduled fire the run belongs to when the kernel exposes it on the sharding
 * context (`fireTimeMs`); otherwise it is the wall-clock time the item started (the checker never
 * relies on it: its invariants use the wall-clock intervals). `wallMs` is `Date.now()` when the
 * line was written; every process of a test runs on one machine, so wall clocks are comparable.
 *
 * Instance lines (what the process saw of its own lifecycle and registry connection):
 * ```text
 * - {instanceId} - {event} {wallMs}
 * ```
 *
 * @module
 */

/** What happened to one item: it started, completed, or stopped on its `AbortSignal`. */
export type ItemEventType = 'start' | 'end' | 'abort';

/**
 * Lifecycle and connection events of one worker process: `READY` (scheduled), the registry
 * connection states (`CONNECTED`, `SUSPENDED`, `LOST`, `RECONNECTED`), `SHUTDOWN` (graceful stop
 * finished).
 */
export type InstanceEventType = 'READY' | 'CONNECTED' | 'SUSPENDED' | 'LOST' | 'RECONNECTED' | 'SHUTDOWN';

const ITEM_EVENTS: ReadonlySet<string> = new Set<ItemEventType>(['start', 'end', 'abort']);
const INSTANCE_EVENTS: ReadonlySet<string> = new Set<InstanceEventType>([
  'READY',
  'CONNECTED',
  'SUSPENDED',
  'LOST',
  'RECONNECTED',
  'SHUTDOWN',
]);

/** One item line. */
export interface ItemLogEntry {
  readonly kind: 'item';
  /** The fire the run belongs to (kernel's fire time, or the item's start time; see the module doc). */
  readonly fireTimeMs: number;
  /** The instance that wrote it. */
  readonly instanceId: string;
  /** The sharding item. */
  readonly item: number;
  /** What happened. */
  readonly event: ItemEventType;
  /** Wall-clock time of the event, epoch ms. */
  readonly wallMs: number;
  /** The kernel's taskId of the run (`{job}@-@{items}@-@READY@-@{instanceId}`). */
  readonly taskId: string;
}

/** One instance line. */
export interface InstanceLogEntry {
  readonly kind: 'instance';
  /** The instance that wrote it. */
  readonly instanceId: string;
  /** What happened. */
  readonly event: InstanceEventType;
  /** Wall-clock time of the event, epoch ms. */
  readonly wallMs: number;
}

/** Any parsed log line. */
export type ExecutionLogEntry = ItemLogEntry | InstanceLogEntry;

/** Result of {@link parseExecutionLog}. */
export interface ParsedExecutionLog {
  /** Entries in file order. */
  readonly entries: ExecutionLogEntry[];
  /** Complete lines that do not follow the format (each is a bug in the writer). */
  readonly malformed: string[];
}

/**
 * Formats an item line, newline included.
 *
 * @param entry - the event (its `kind` is implied).
 * @returns the line.
 * @throws {TypeError} when the instance id or task id contains whitespace.
 */
export function formatItemLine(entry: Omit<ItemLogEntry, 'kind'>): string {
  assertToken(entry.instanceId, 'instanceId');
  assertToken(entry.taskId, 'taskId');
  return `${entry.fireTimeMs} ${entry.instanceId} ${entry.item} ${entry.event} ${entry.wallMs} ${entry.taskId}\n`;
}

/**
 * Formats an instance line, newline included.
 *
 * @param entry - the event (its `kind` is implied).
 * @returns the line.
 * @throws {TypeError} when the instance id contains whitespace.
 */
export function formatInstanceLine(entry: Omit<InstanceLogEntry, 'kind'>): string {
  assertToken(entry.instanceId, 'instanceId');
  return `- ${entry.instanceId} - ${entry.event} ${entry.wallMs}\n`;
}

/**
 * Parses the text of one or more execution logs. A last line without its newline is a write in
 * progress and is ignored; any other line that does not follow the format is reported in
 * `malformed`.
 *
 * @param text - file contents.
 * @returns entries in order, and malformed lines.
 */
export function parseExecutionLog(text: string): ParsedExecutionLog {
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or an incomplete line being written
  const entries: ExecutionLogEntry[] = [];
  const malformed: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const entry = parseLine(line);
    if (entry === undefined) malformed.push(line);
    else entries.push(entry);
  }
  return { entries, malformed };
}

function parseLine(line: string): ExecutionLogEntry | undefined {
  const fields = line.split(' ');
  if (fields[0] === '-') {
    const [, instanceId, dash, event, wall] = fields;
    if (fields.length !== 5 || dash !== '-' || instanceId === undefined || instanceId === '')
      return undefined;
    if (event === undefined || !INSTANCE_EVENTS.has(event)) return undefined;
    const wallMs = toInteger(wall);
    if (wallMs === undefined) return undefined;
    return { kind: 'instance', instanceId, event: event as InstanceEventType, wallMs };
  }
  if (fields.length !== 6) return undefined;
  const [fire, instanceId, item, event, wall, taskId] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const fireTimeMs = toInteger(fire);
  const itemNumber = toInteger(item);
  const wallMs = toInteger(wall);
  if (fireTimeMs === undefined || itemNumber === undefined || wallMs === undefined) return undefined;
  if (instanceId === '' || taskId === '' || !ITEM_EVENTS.has(event)) return undefined;
  return {
    kind: 'item',
    fireTimeMs,
    instanceId,
    item: itemNumber,
    event: event as ItemEventType,
    wallMs,
    taskId,
  };
}

function toInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

function assertToken(value: string, name: string): void {
  if (value === '' || /\s/.test(value)) {
    throw new TypeError(`${name} must be non-empty and contain no whitespace, got ${JSON.stringify(value)}`);
  }
}
