/**
 * `elasticjob trigger | disable | enable | shutdown | remove`: operator commands on running jobs.
 *
 * @module
 * @internal
 */
import type { Command } from 'commander';
import { DEFAULT_SHUTDOWN_COMMAND_TIMEOUT_MS } from '../lifecycle/instance-shutdown.js';
import type { JobInstanceTarget } from '../lifecycle/job-operate-api.js';
import { ServerNotFoundError } from '../lifecycle/lifecycle-errors.js';
import { type CommandContext, list, parseMs, plural, type WithRegistry } from './command-context.js';
import { CliError, ExitCode } from './errors.js';
import { toJson } from './format.js';

/** Options of `shutdown` and `remove`. */
interface ShutdownCliOptions {
  readonly server?: string;
  readonly commandTimeoutMs: number;
  readonly fallback: boolean;
}

/** Registers the operator commands. @internal */
export function registerOperateCommands(program: Command, withRegistry: WithRegistry): void {
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
      .option('--server <ip>', `${status} only this server of the job (it must be one: see 'job <name>')`)
      .option('--force', `with --server: ${status} a server the job does not know yet (an IP address)`)
      .option('--item <n>', `${status} only this sharding item`, parseItem);
    command.action(
      withRegistry(command, (context) =>
        setStatus(
          context,
          status,
          command.args[0]!,
          command.opts<{ server?: string; item?: number; force?: boolean }>(),
        ),
      ),
    );
  }

  const shutdown = addShutdownOptions(
    program
      .command('shutdown')
      .description(
        'shut the job down on its instances (all, or those on --server); they stop and leave the cluster',
      )
      .argument('<job>', 'the job')
      .option('--server <ip>', 'only the instances on this server IP'),
  );
  shutdown.action(
    withRegistry(shutdown, async (context) => {
      const jobName = shutdown.args[0]!;
      const options = shutdown.opts<ShutdownCliOptions>();
      const instances = await context.apis.jobOperateAPI.shutdown(jobName, options.server, options);
      if (context.json) context.out(toJson({ jobName, instances }));
      else
        context.out(
          `Shut down ${plural(instances.length, 'instance')} of job '${jobName}'${describeDeliveries(instances, options)}\n`,
        );
    }),
  );

  const remove = addShutdownOptions(
    program
      .command('remove')
      .description('shut the job down (all instances, or those on --server) and delete its server nodes')
      .argument('<job>', 'the job')
      .option('--server <ip>', 'only this server IP'),
  );
  remove.action(
    withRegistry(remove, async (context) => {
      const jobName = remove.args[0]!;
      const options = remove.opts<ShutdownCliOptions>();
      const result = await context.apis.jobOperateAPI.remove(jobName, options.server, options);
      if (context.json) context.out(toJson({ jobName, ...result }));
      else
        context.out(
          `Removed job '${jobName}' from ${plural(result.servers.length, 'server')}${list(result.servers.map((each) => each.serverIp))}; ` +
            `shut down ${plural(result.instances.length, 'instance')}${describeDeliveries(result.instances, options)}\n`,
        );
    }),
  );
}

function addShutdownOptions(command: Command): Command {
  return command
    .option(
      '--command-timeout-ms <ms>',
      "how long each instance has to act on the shutdown command before its instance node is deleted (ElasticJob's own protocol, for Java instances)",
      parseMs('--command-timeout-ms', 0),
      DEFAULT_SHUTDOWN_COMMAND_TIMEOUT_MS,
    )
    .option(
      '--no-fallback',
      'only write the shutdown commands; never delete instance nodes (no Java instances)',
    );
}

/** `: a, b (instance node deleted: ...)`. */
function describeDeliveries(instances: readonly JobInstanceTarget[], options: ShutdownCliOptions): string {
  if (instances.length === 0) return '';
  const names = instances.map((instance) =>
    instance.delivery === 'INSTANCE_NODE_DELETED'
      ? `${instance.instanceId} (did not act on the command within ${options.commandTimeoutMs} ms: instance node deleted, as ElasticJob does)`
      : instance.instanceId,
  );
  return `: ${names.join(', ')}`;
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

async function setStatus(
  context: CommandContext,
  status: 'disable' | 'enable',
  jobName: string,
  options: { server?: string; item?: number; force?: boolean },
): Promise<void> {
  if (options.force === true && options.server === undefined) {
    throw new CliError(ExitCode.USAGE, '--force needs --server: it names a server the job does not know yet');
  }
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
  let servers: Awaited<ReturnType<CommandContext['apis']['jobOperateAPI']['disable']>>;
  try {
    servers = await context.apis.jobOperateAPI[status](jobName, options.server, {
      force: options.force === true,
    });
  } catch (error) {
    if (error instanceof ServerNotFoundError && error.jobName !== undefined) {
      throw new CliError(
        ExitCode.UNKNOWN_JOB,
        `${error.message} (--force ${status}s a server that has not joined the job yet)`,
        { cause: error },
      );
    }
    throw error;
  }
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
