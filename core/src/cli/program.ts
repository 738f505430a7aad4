/**
 * The `elasticjob` command line: operations on running jobs through the registry (over the
 * lifecycle API) and `run <file>` (the jobs-file bootstrap). {@link runCli} is the testable entry;
 * `main.ts` binds it to the process.
 *
 * @module
 */
import { Command, CommanderError, Option } from 'commander';
import { createJobOperationAPIs } from '../lifecycle/job-operation-apis.js';
import type { LogLevel } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import type { RegistryCenterConfiguration } from '../registry/registry-configuration.js';
import { classifyError } from './classify-error.js';
import { parseMs, plural, type WithRegistry } from './command-context.js';
import { registerConfigCommands } from './config-commands.js';
import { closeRegistry, connectRegistry, describeRegistry, resolveRegistryConfiguration } from './connect.js';
import { registerConsoleCommand } from './console-command.js';
import { ExitCode, type ExitCodeValue } from './errors.js';
import { runHistoryCommand } from './history-command.js';
import { registerOperateCommands } from './operate-commands.js';
import { registerViewCommands } from './view-commands.js';

/** Where the CLI writes, what it reads, and how it waits for signals (injected by tests). */
export interface CliIo {
  /** Writes to standard output. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
  /** The environment (`ELASTICJOB_REGISTRY`, `${ENV}` references). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves with what stops `run`: SIGINT, SIGTERM, or its standard output closed (EPIPE). */
  readonly waitForStopSignal: () => Promise<string>;
  /** Builds and starts a registry client; defaults to the bounded {@link connectRegistry}. */
  readonly connect?: (
    configuration: RegistryCenterConfiguration,
    timeoutMs: number,
  ) => Promise<CoordinatorRegistryCenter>;
}

/** Global options, as commander parses them. */
interface GlobalOptions {
  readonly registry?: string;
  readonly digest?: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs: number;
  readonly json?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code (see
 * {@link ExitCode}); never throws and never calls `process.exit`.
 *
 * @param argv - the arguments, e.g. `['jobs', '--registry', 'zookeeper://127.0.0.1:2181/shop']`.
 * @param io - streams, environment, signal wait.
 * @returns the exit code.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCodeValue> {
  // `history` has its own options (parsed by the tracing package), so it bypasses this parser.
  if (argv[0] === 'history') {
    try {
      return (await runHistoryCommand(argv.slice(1), io)) as ExitCodeValue;
    } catch (error) {
      return reportError(error, io);
    }
  }
  let exitCode: ExitCodeValue = ExitCode.OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): ExitCodeValue {
  if (error instanceof CommanderError) {
    // commander printed its own message (or the help) already.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.OK;
    return ExitCode.USAGE;
  }
  const { code, message } = classifyError(error);
  io.stderr(`elasticjob: ${message}\n`);
  return code;
}

/** The level of the jobs `run` starts: `info`, unless `ELASTICJOB_LOG_LEVEL` says otherwise. */
const RUN_DEFAULT_LOG_LEVEL: LogLevel = 'info';

function buildProgram(io: CliIo, setExitCode: (code: ExitCodeValue) => void): Command {
  const program = new Command('elasticjob')
    .description(
      'Operate ElasticJob-TS jobs through their registry (ZooKeeper, etcd or Redis), or run jobs from a file.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)')
    .addOption(
      new Option(
        '-r, --registry <url|file>',
        'registry URL (zookeeper://h:2181,h2:2181/ns, etcd://h:2379/ns, etcds://..., redis://h:6379/ns, rediss://...) or a YAML/JSON file with a registry: section (env: ELASTICJOB_REGISTRY)',
      ),
    )
    .option('--digest <user:password>', 'ZooKeeper digest credentials (env: ELASTICJOB_DIGEST)')
    .option('--username <name>', 'etcd or Redis user name (env: ELASTICJOB_USERNAME)')
    .option('--password <password>', 'etcd or Redis password (env: ELASTICJOB_PASSWORD)')
    .addOption(
      new Option('--timeout-ms <ms>', 'bound of the registry connection wait, in ms')
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(parseMs('--timeout-ms', 1)),
    )
    .option('--json', 'print JSON (stable shapes) instead of tables');

  /** Runs `action` with a connected registry, closing it afterwards. */
  const withRegistry: WithRegistry = (command, action) => async () => {
    const options = command.optsWithGlobals<GlobalOptions>();
    // Options win over the environment (read from io.env, so tests and embedders control it).
    const digest = options.digest ?? io.env.ELASTICJOB_DIGEST;
    const username = options.username ?? io.env.ELASTICJOB_USERNAME;
    const password = options.password ?? io.env.ELASTICJOB_PASSWORD;
    const configuration = await resolveRegistryConfiguration({
      registry: options.registry ?? io.env.ELASTICJOB_REGISTRY,
      credentials: {
        ...(digest === undefined ? {} : { digest }),
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
      },
      timeoutMs: options.timeoutMs,
      env: io.env,
    });
    const registry = await (io.connect ?? connectRegistry)(configuration, options.timeoutMs);
    let failure: unknown;
    try {
      await action({
        registry,
        apis: createJobOperationAPIs(registry),
        json: options.json === true,
        out: io.stdout,
        where: describeRegistry(configuration),
      });
    } catch (error) {
      failure = error;
    }
    const closeError = await closeRegistry(registry);
    if (failure !== undefined) throw failure;
    if (closeError !== undefined) throw closeError;
  };

  program
    .command('history')
    .description(
      'execution history from the event tracing database (needs @elasticjob-ts/tracing; see `history --help`)',
    )
    .helpOption(false)
    .allowUnknownOption()
    .argument('[args...]')
    .action(async (args: string[]) => {
      setExitCode((await runHistoryCommand(args, io)) as ExitCodeValue);
    });

  registerViewCommands(program, withRegistry);
  registerOperateCommands(program, withRegistry);
  registerConfigCommands(program, withRegistry);
  registerConsoleCommand(program, { withRegistry, waitForStopSignal: io.waitForStopSignal });

  const run = program
    .command('run')
    .description(
      'run the jobs declared in a YAML/JSON file until SIGINT/SIGTERM, then shut them down gracefully',
    )
    .argument('<file>', 'the jobs file')
    .option('--instance-id <id>', "this process's job instance id (overrides the file's instanceId)")
    .option('--server-ip <ip>', 'the IP to register (overrides the file)');
  run.action(async () => {
    const options = run.optsWithGlobals<GlobalOptions & { instanceId?: string; serverIp?: string }>();
    const file = run.args[0]!;
    const timeoutExplicit = program.getOptionValueSource('timeoutMs') === 'cli';
    // The kernel and the logger are loaded by the one command that runs jobs: the others only read
    // and write the registry, and start about 100 ms sooner without them (measured).
    const [{ runJobsFromFile }, { createLogger, logLevelFromEnvironment }] = await Promise.all([
      import('../bootstrap-file/jobs-file.js'),
      import('../logging/logger.js'),
    ]);
    const running = await runJobsFromFile(file, {
      env: io.env,
      // Run from the CLI, the jobs tell the operator what they do (embedded, the default is quieter).
      logger: createLogger(logLevelFromEnvironment(io.env, RUN_DEFAULT_LOG_LEVEL)),
      ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
      ...(options.serverIp === undefined ? {} : { serverIp: options.serverIp }),
      ...(timeoutExplicit ? { registryOverrides: { connectionTimeoutMs: options.timeoutMs } } : {}),
    });
    const names = [...running.bootstraps.keys()];
    io.stdout(`elasticjob: running ${plural(names.length, 'job')} from ${file}: ${names.join(', ')}\n`);
    const signal = await io.waitForStopSignal();
    io.stdout(`elasticjob: ${signal} received, shutting the jobs down\n`);
    await running.shutdown();
    io.stdout('elasticjob: stopped\n');
    setExitCode(ExitCode.OK);
  });

  return program;
}
