/**
 * `elasticjob history`: search item executions, show a task's status trace, and per-job
 * statistics from the event tracing database. Tables by default, `--json` for scripts.
 *
 * Registered two ways without core depending on this package at build time: core's `elasticjob`
 * CLI imports `@elasticjob-ts/tracing` when `history` is invoked (and says how to install it when
 * it is missing), and this package ships the same command as the `elasticjob-history` binary.
 *
 * Exit codes: 0 success, 1 internal error, 2 bad usage or value, 4 the history database is
 * unreachable or failed (as core's CLI uses 4 for the registry).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { toJson } from '@elasticjob-ts/core';
import { Command, CommanderError, Option } from 'commander';
import { HistoryQueryError } from '../query/history-types.js';
import { type HistoryStore, openHistoryStore } from '../store/history-store.js';
import { HistoryUrlError, maskPassword, parseHistoryUrl } from '../store/history-url.js';
import { formatExecutions, formatStatistics, formatStatusTraces } from './history-format.js';
import { parseTimeArgument, TimeArgumentError } from './time-arguments.js';

/** Where the history CLI writes and what it reads (injected by tests and by core's CLI). */
export interface HistoryCliIo {
  /** Writes to standard output. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
  /** The environment (`ELASTICJOB_HISTORY`: the default database URL). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The current time, epoch ms (for `--since 24h`). @defaultValue Date.now */
  readonly nowMs?: () => number;
}

class UsageError extends Error {}

interface CommonOptions {
  readonly db?: string;
  readonly json?: boolean;
}

/**
 * Runs `elasticjob history` on `argv` (the words after `history`) and returns the exit code; never
 * throws and never exits the process.
 *
 * @param argv - e.g. `['executions', '--db', 'sqlite:./history.db', '--job', 'orders', '--failed']`.
 * @param io - output streams and environment.
 * @param programName - the name shown in help. @defaultValue 'elasticjob history'
 * @returns 0, 1, 2 or 4 (see the module documentation).
 */
export async function runHistoryCli(
  argv: readonly string[],
  io: HistoryCliIo,
  programName = 'elasticjob history',
): Promise<number> {
  const now = io.nowMs ?? Date.now;
  let store: HistoryStore | undefined;
  const open = async (options: CommonOptions): Promise<HistoryStore> => {
    const url = options.db ?? io.env.ELASTICJOB_HISTORY;
    if (url === undefined || url === '') {
      throw new UsageError(
        'no history database: pass --db <url> or set ELASTICJOB_HISTORY (e.g. sqlite:./history.db)',
      );
    }
    const location = parseHistoryUrl(url);
    if (location.backend === 'sqlite' && location.filename !== ':memory:' && !existsSync(location.filename)) {
      throw new UsageError(`no history database file '${location.filename}' (from ${maskPassword(url)})`);
    }
    store = await openHistoryStore({ url, migrate: 'lazy' });
    return store;
  };
  const time = (option: string, value: string | undefined): number | undefined =>
    value === undefined ? undefined : parseTimeArgument(option, value, now());
  /** `--since` and `--until` as `fromMs`/`toMs`, the first not after the second. */
  const range = (options: { since?: string; until?: string }) => {
    const fromMs = time('--since', options.since);
    const toMs = time('--until', options.until);
    if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
      throw new TimeArgumentError(
        `--since '${options.since}' is after --until '${options.until}': give the earlier time to --since`,
      );
    }
    return { fromMs, toMs };
  };

  const program = new Command(programName)
    .description(
      'execution history from the event tracing database (JOB_EXECUTION_LOG, JOB_STATUS_TRACE_LOG)',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  const common = (command: Command) =>
    command
      .addOption(
        new Option(
          '--db <url>',
          'history database: sqlite:<file> or postgres://... (env ELASTICJOB_HISTORY)',
        ),
      )
      .option('--json', 'print JSON instead of a table');

  common(program.command('executions'))
    .description('item executions, newest first')
    .option('--job <name>', 'job name')
    .option('--item <n>', 'sharding item', (v) => integer('--item', v))
    .option('--ip <ip>', 'instance IP')
    .option('--host <hostname>', 'instance host name')
    .option(
      '--task <taskId>',
      'taskId: job, items and instance, as in ElasticJob the same for every run of those items there',
    )
    .addOption(
      new Option('--source <source>', 'what started the run').choices([
        'NORMAL_TRIGGER',
        'MISFIRE',
        'FAILOVER',
      ]),
    )
    .option('--success', 'only completed successfully')
    .option('--failed', 'only completed with a failure')
    .option('--running', 'only still running')
    .option('--since <time>', 'started at or after: ISO time, epoch ms, or 90s/15m/24h/7d ago')
    .option('--until <time>', 'started before: same forms as --since')
    .option('--failure <text>', 'failure cause contains text (case-insensitive)')
    .option('--limit <n>', 'rows per page (1-1000)', (v) => integer('--limit', v), 50)
    .option('--cursor <cursor>', 'next page: the cursor printed after the previous page')
    .action(async (options) => {
      if (options.success && options.failed)
        throw new UsageError('--success and --failed exclude each other');
      const history = await open(options);
      const page = await history.queries.findExecutions(
        {
          jobName: options.job,
          shardingItem: options.item,
          ip: options.ip,
          hostname: options.host,
          taskId: options.task,
          source: options.source,
          success: options.success ? true : options.failed ? false : undefined,
          running: options.running ? true : undefined,
          ...range(options),
          failureText: options.failure,
        },
        { limit: options.limit, cursor: options.cursor },
      );
      io.stdout(options.json ? toJson(page) : formatExecutions(page));
    });

  common(program.command('status'))
    .description("a task's status trace (its run phases in order), or a job's status traces")
    .argument(
      '[taskId]',
      'a taskId (the TASK column of `executions`); as in ElasticJob it names the job, items and instance, so it covers every run of those items there',
    )
    .option('--job <name>', 'all status traces of a job instead of one task')
    .option('--since <time>', 'created at or after: ISO time, epoch ms, or 90s/15m/24h/7d ago')
    .option('--until <time>', 'created before')
    .option('--limit <n>', 'rows per page (1-1000)', (v) => integer('--limit', v), 50)
    .option('--cursor <cursor>', 'next page')
    .action(async (taskId: string | undefined, options) => {
      if (taskId === undefined && options.job === undefined)
        throw new UsageError('give a taskId or --job <name>');
      const history = await open(options);
      const page = await history.queries.findStatusTraces(
        {
          taskId,
          jobName: options.job,
          ...range(options),
        },
        { limit: options.limit, cursor: options.cursor },
      );
      io.stdout(options.json ? toJson(page) : formatStatusTraces(page));
    });

  common(program.command('stats'))
    .description('per job and hour/day: runs, failures, running, p50/p95 duration (seconds)')
    .option('--job <name>', 'only this job')
    .addOption(new Option('--by <granularity>', 'bucket size').choices(['hour', 'day']).default('hour'))
    .option('--since <time>', 'started at or after (default 24h)', '24h')
    .option('--until <time>', 'started before')
    .action(async (options) => {
      const history = await open(options);
      const buckets = await history.queries.jobStatistics({
        jobName: options.job,
        granularity: options.by,
        ...range(options),
      });
      io.stdout(options.json ? toJson(buckets) : formatStatistics(buckets));
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, io);
  } finally {
    await store?.close();
  }
}

function integer(option: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function report(error: unknown, io: HistoryCliIo): number {
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.exitCode === 0
      ? 0
      : 2;
  }
  if (
    error instanceof UsageError ||
    error instanceof HistoryUrlError ||
    error instanceof HistoryQueryError ||
    error instanceof TimeArgumentError
  ) {
    io.stderr(`error: ${error.message}\n`);
    return 2;
  }
  if (error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError) {
    io.stderr(`internal error (please report it): ${error.stack ?? error.message}\n`);
    return 1;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  io.stderr(`error: history database: ${(error as Error).message ?? String(error)}${cause}\n`);
  return 4;
}
