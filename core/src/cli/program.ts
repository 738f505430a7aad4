/**
 * The `elasticjob` command line: operations on running jobs through the registry (over the
 * lifecycle API) and `run <file>` (the jobs-file bootstrap). {@link runCli} is the testable entry;
 * `main.ts` binds it to the process.
 *
 * @module
 */
import { Command, CommanderError, Option } from 'commander';
import { runJobsFromFile } from '../bootstrap-file/jobs-file.js';
import { JobsFileError } from '../bootstrap-file/jobs-file-error.js';
import { JobConfigurationError } from '../config/job-configuration-error.js';
import { toJobConfigurationYaml } from '../config/job-configuration-yaml.js';
import { JobDumpService } from '../dump/job-dump-service.js';
import { JobSetupError } from '../kernel/job-setup-error.js';
import { createJobOperationAPIs, type JobOperationAPIs } from '../lifecycle/job-operation-apis.js';
import { JobNotFoundError, ServerNotFoundError } from '../lifecycle/lifecycle-errors.js';
import { compareAscending, LifecycleRegistry } from '../lifecycle/lifecycle-registry.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import type { RegistryCenterConfiguration } from '../registry/registry-configuration.js';
import { RegistryConfigurationError } from '../registry/registry-configuration.js';
import { RegistryError } from '../registry/registry-error.js';
import { applyConfigValue, readConfigField } from './config-values.js';
import { closeRegistry, connectRegistry, describeRegistry, resolveRegistryConfiguration } from './connect.js';
import { registerConsoleCommand } from './console-command.js';
import { CliError, ExitCode, type ExitCodeValue } from './errors.js';
import { formatPairs, formatTable, toJson } from './format.js';

/** Where the CLI writes, what it reads, and how it waits for signals (injected by tests). */
export interface CliIo {
  /** Writes to standard output. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
  /** The environment (`ELASTICJOB_REGISTRY`, `${ENV}` references). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves with the first of SIGINT/SIGTERM (for `run`). */
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
  const { code, message } = classify(error);
  io.stderr(`elasticjob: ${message}\n`);
  return code;
}

function classify(error: unknown): { code: ExitCodeValue; message: string } {
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof JobNotFoundError || error instanceof ServerNotFoundError) {
    return { code: ExitCode.UNKNOWN_JOB, message: error.message };
  }
  if (error instanceof RegistryError) {
    const unreachable = error.code === 'TIMEOUT' || error.code === 'CONNECTION_LOSS';
    return {
      code: ExitCode.REGISTRY,
      message: `${unreachable ? 'Registry unreachable' : 'Registry error'} (${error.code})${error.path === undefined ? '' : ` at '${error.path}'`}: ${error.message}`,
    };
  }
  if (error instanceof RegistryConfigurationError) {
    return { code: ExitCode.USAGE, message: `Invalid registry option '${error.field}': ${error.message}` };
  }
  if (
    error instanceof JobsFileError ||
    error instanceof JobConfigurationError ||
    error instanceof JobSetupError ||
    error instanceof TypeError
  ) {
    return { code: ExitCode.USAGE, message: error.message };
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: ExitCode.INTERNAL, message: `internal error: ${detail}` };
}

function parseTimeout(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1 || number > 2_147_483_647) {
    throw new CliError(
      ExitCode.USAGE,
      `Invalid --timeout-ms ${JSON.stringify(value)}: expected an integer of ms from 1 to 2147483647`,
    );
  }
  return number;
}

function parseItem(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new CliError(
      ExitCode.USAGE,
      `Invalid --item ${JSON.stringify(value)}: expected a sharding item, an integer >= 0`,
    );
  }
  return number;
}

function buildProgram(io: CliIo, setExitCode: (code: ExitCodeValue) => void): Command {
  const program = new Command('elasticjob')
    .description(
      'Operate ElasticJob-TS jobs through their registry (ZooKeeper or etcd), or run jobs from a file.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)')
    .addOption(
      new Option(
        '-r, --registry <url|file>',
        'registry URL (zookeeper://h:2181,h2:2181/ns, etcd://h:2379/ns, etcds://...) or a YAML/JSON file with a registry: section (env: ELASTICJOB_REGISTRY)',
      ),
    )
    .option('--digest <user:password>', 'ZooKeeper digest credentials (env: ELASTICJOB_DIGEST)')
    .option('--username <name>', 'etcd user name (env: ELASTICJOB_USERNAME)')
    .option('--password <password>', 'etcd password (env: ELASTICJOB_PASSWORD)')
    .addOption(
      new Option('--timeout-ms <ms>', 'bound of the registry connection wait, in ms')
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(parseTimeout),
    )
    .option('--json', 'print JSON (stable shapes) instead of tables');

  /** Runs `action` with a connected registry, closing it afterwards. */
  const withRegistry = (command: Command, action: (context: CommandContext) => Promise<void>) => async () => {
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

  const jobs = program
    .command('jobs')
    .description('list the jobs: name, status, cron, instances, total items, description');
  jobs.action(withRegistry(jobs, listJobs));

  const job = program
    .command('job')
    .description('show one job: configuration, servers, instances, sharding items')
    .argument('<name>', 'the job');
  job.action(withRegistry(job, (context) => showJob(context, job.args[0]!)));

  const servers = program
    .command('servers')
    .description('list the servers (IPs) with their instances and jobs');
  servers.action(withRegistry(servers, listServers));

  const trigger = program
    .command('trigger')
    .description('run the job once now on every live instance')
    .argument('<job>', 'the job');
  trigger.action(
    withRegistry(trigger, async (context) => {
      const jobName = trigger.args[0]!;
      const instances = await context.apis.jobOperateAPI.trigger(jobName);
      if (context.json) context.out(toJson({ jobName, instances }));
      else
        context.out(
          `Triggered job '${jobName}' on ${plural(instances.length, 'instance')}${list(instances)}\n`,
        );
    }),
  );

  for (const status of ['disable', 'enable'] as const) {
    const command = program
      .command(status)
      .description(
        `${status} the job: every server of it, one server (--server), or one sharding item (--item)`,
      )
      .argument('<job>', 'the job')
      .option('--server <ip>', `${status} only this server IP of the job`)
      .option('--item <n>', `${status} only this sharding item`, parseItem);
    command.action(
      withRegistry(command, (context) =>
        setStatus(context, status, command.args[0]!, command.opts<{ server?: string; item?: number }>()),
      ),
    );
  }

  const shutdown = program
    .command('shutdown')
    .description(
      'shut the job down on its instances (all, or those on --server); they stop and leave the cluster',
    )
    .argument('<job>', 'the job')
    .option('--server <ip>', 'only the instances on this server IP');
  shutdown.action(
    withRegistry(shutdown, async (context) => {
      const jobName = shutdown.args[0]!;
      const server = shutdown.opts<{ server?: string }>().server;
      const instances = await context.apis.jobOperateAPI.shutdown(jobName, server);
      if (context.json) context.out(toJson({ jobName, instances }));
      else
        context.out(
          `Sent shutdown to ${plural(instances.length, 'instance')} of job '${jobName}'${list(instances.map((instance) => instance.instanceId))}\n`,
        );
    }),
  );

  const remove = program
    .command('remove')
    .description('shut the job down (all instances, or those on --server) and delete its server nodes')
    .argument('<job>', 'the job')
    .option('--server <ip>', 'only this server IP');
  remove.action(
    withRegistry(remove, async (context) => {
      const jobName = remove.args[0]!;
      const server = remove.opts<{ server?: string }>().server;
      const result = await context.apis.jobOperateAPI.remove(jobName, server);
      if (context.json) context.out(toJson({ jobName, ...result }));
      else
        context.out(
          `Removed job '${jobName}' from ${plural(result.servers.length, 'server')}${list(result.servers.map((each) => each.serverIp))}; ` +
            `sent shutdown to ${plural(result.instances.length, 'instance')}${list(result.instances.map((instance) => instance.instanceId))}\n`,
        );
    }),
  );

  registerConsoleCommand(program, { withRegistry, waitForStopSignal: io.waitForStopSignal });

  const config = program.command('config').description('read or change a job configuration in the registry');
  const configGet = config
    .command('get')
    .description('print the configuration (YAML, as stored) or one field (a field name or props.<name>)')
    .argument('<job>', 'the job')
    .argument('[field]', 'one field');
  configGet.action(
    withRegistry(configGet, async (context) => {
      const [jobName, field] = configGet.args as [string, string | undefined];
      const configuration = await context.apis.jobConfigurationAPI.getJobConfiguration(jobName);
      if (field === undefined) {
        context.out(context.json ? toJson(configuration) : toJobConfigurationYaml(configuration));
        return;
      }
      const value = readConfigField(configuration, field);
      if (context.json) context.out(toJson({ jobName, field, value }));
      else
        context.out(`${Array.isArray(value) ? value.join(',') : value === undefined ? '' : String(value)}\n`);
    }),
  );
  const configSet = config
    .command('set')
    .description(
      'change one field (validated; running instances pick it up: a new cron reschedules, a new total reshards)',
    )
    .argument('<job>', 'the job')
    .argument('<field>', 'the field, or props.<name>')
    .argument('<value>', 'the new value (integers, true/false, lists joined by commas)');
  configSet.action(
    withRegistry(configSet, async (context) => {
      const [jobName, field, value] = configSet.args as [string, string, string];
      const current = await context.apis.jobConfigurationAPI.getJobConfiguration(jobName);
      const next = applyConfigValue(current, field, value);
      const previous = readConfigField(current, field);
      try {
        await context.apis.jobConfigurationAPI.updateJobConfiguration(next.configuration);
      } catch (error) {
        if (error instanceof JobConfigurationError) {
          throw new CliError(
            ExitCode.USAGE,
            `Invalid value ${JSON.stringify(value)} for ${field} of job '${jobName}': ${error.issues.map((issue) => issue.message).join('; ')}`,
            { cause: error },
          );
        }
        throw error;
      }
      if (context.json) context.out(toJson({ jobName, field, value: next.value, previous }));
      else context.out(`Set ${field} of job '${jobName}' to ${show(next.value)} (was ${show(previous)})\n`);
    }),
  );

  const dump = program
    .command('dump')
    .description(`print every registry node of the job as 'path | value' lines`)
    .argument('<job>', 'the job')
    .option('--mask-ips', 'replace IPv4 addresses by ip1, ip2, ... (as ElasticJob dumps do)');
  dump.action(
    withRegistry(dump, async (context) => {
      const jobName = dump.args[0]!;
      const lines = await new JobDumpService(context.registry).dumpLines(jobName, {
        maskIps: dump.opts<{ maskIps?: boolean }>().maskIps === true,
      });
      if (context.json) context.out(toJson({ jobName, lines }));
      else context.out(lines.map((line) => `${line}\n`).join(''));
    }),
  );

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
    const running = await runJobsFromFile(file, {
      env: io.env,
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

/** What a registry command's action gets. */
interface CommandContext {
  readonly registry: CoordinatorRegistryCenter;
  readonly apis: JobOperationAPIs;
  readonly json: boolean;
  readonly out: (text: string) => void;
  /** The registry, described for messages. */
  readonly where: string;
}

async function listJobs(context: CommandContext): Promise<void> {
  const jobs = await context.apis.jobStatisticsAPI.getAllJobsBriefInfo();
  if (context.json) {
    context.out(toJson(jobs));
    return;
  }
  if (jobs.length === 0) {
    context.out(`No jobs in ${context.where}\n`);
    return;
  }
  context.out(
    formatTable(
      ['NAME', 'STATUS', 'CRON', 'INSTANCES', 'TOTAL', 'DESCRIPTION'],
      jobs.map((job) => [
        job.jobName,
        job.status,
        job.cron,
        job.instanceCount,
        job.shardingTotalCount,
        job.description,
      ]),
    ),
  );
}

async function showJob(context: CommandContext, jobName: string): Promise<void> {
  const { apis, registry } = context;
  const configuration = await apis.jobConfigurationAPI.getJobConfiguration(jobName);
  const brief = await apis.jobStatisticsAPI.getJobBriefInfo(jobName);
  const reader = new LifecycleRegistry(registry);
  const instances = [...(await reader.liveInstances(jobName))].sort((a, b) =>
    compareAscending(a.instanceId, b.instanceId),
  );
  const serverStates = await reader.serverStates(jobName);
  const servers = [...new Set([...serverStates.keys(), ...instances.map((instance) => instance.serverIp)])]
    .sort(compareAscending)
    .map((serverIp) => ({
      serverIp,
      status: serverStates.get(serverIp),
      instances: instances
        .filter((instance) => instance.serverIp === serverIp)
        .map((instance) => instance.instanceId),
    }));
  const sharding = await apis.shardingStatisticsAPI.getShardingInfo(jobName);
  if (context.json) {
    context.out(toJson({ job: brief, configuration, servers, instances, sharding }));
    return;
  }
  const { props, ...fields } = configuration;
  context.out(
    `Job ${jobName}: ${brief.status}, ${plural(brief.instanceCount, 'instance')}, ${plural(brief.shardingTotalCount, 'item')}\n\n`,
  );
  context.out('CONFIGURATION\n');
  context.out(
    formatPairs(
      [
        ...Object.entries(fields),
        ...Object.entries(props)
          .sort(([a], [b]) => compareAscending(a, b))
          .map(([key, value]) => [`props.${key}`, value] as const),
      ],
      2,
    ),
  );
  context.out('\nSERVERS\n');
  context.out(
    formatTable(
      ['SERVER', 'STATUS', 'INSTANCES'],
      servers.map((server) => [server.serverIp, server.status, server.instances]),
    ),
  );
  context.out('\nSHARDING\n');
  context.out(
    formatTable(
      ['ITEM', 'STATUS', 'INSTANCE', 'SERVER', 'FAILOVER'],
      sharding.map((item) => [item.item, item.status, item.instanceId, item.serverIp, item.failover]),
    ),
  );
}

async function listServers(context: CommandContext): Promise<void> {
  const servers = await context.apis.serverStatisticsAPI.getAllServersBriefInfo();
  if (context.json) {
    context.out(toJson(servers));
    return;
  }
  if (servers.length === 0) {
    context.out(`No servers in ${context.where}\n`);
    return;
  }
  context.out(
    formatTable(
      ['SERVER', 'INSTANCES', 'JOBS', 'DISABLED JOBS', 'JOB NAMES'],
      servers.map((server) => [
        server.serverIp,
        server.instancesNum,
        server.jobsNum,
        server.disabledJobsNum,
        server.jobNames,
      ]),
    ),
  );
}

async function setStatus(
  context: CommandContext,
  status: 'disable' | 'enable',
  jobName: string,
  options: { server?: string; item?: number },
): Promise<void> {
  if (options.item !== undefined) {
    if (options.server !== undefined) {
      throw new CliError(
        ExitCode.USAGE,
        `--item and --server exclude each other: a sharding item belongs to the job, not to a server`,
      );
    }
    await context.apis.shardingOperateAPI[status](jobName, options.item);
    if (context.json)
      context.out(
        toJson({ jobName, item: options.item, status: status === 'disable' ? 'DISABLED' : 'ENABLED' }),
      );
    else
      context.out(
        `${status === 'disable' ? 'Disabled' : 'Enabled'} item ${options.item} of job '${jobName}'\n`,
      );
    return;
  }
  const servers = await context.apis.jobOperateAPI[status](jobName, options.server);
  if (context.json) {
    context.out(
      toJson({
        jobName,
        servers: servers.map((server) => server.serverIp),
        status: status === 'disable' ? 'DISABLED' : 'ENABLED',
      }),
    );
    return;
  }
  context.out(
    `${status === 'disable' ? 'Disabled' : 'Enabled'} job '${jobName}' on ${plural(servers.length, 'server')}${list(servers.map((server) => server.serverIp))}\n`,
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '' : `: ${names.join(', ')}`;
}

function show(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
