/**
 * `elasticjob jobs | job <name> | servers | dump <job>`: what runs where. A job whose stored configuration is
 * invalid is shown with status `INVALID_CONFIG`, the reason and how to repair it; it never hides the
 * other jobs.
 *
 * @module
 * @internal
 */
import type { Command } from 'commander';
import type { JobConfigurationError } from '../config/job-configuration-error.js';
import { JobDumpService } from '../dump/job-dump-service.js';
import { compareAscending, LifecycleRegistry } from '../lifecycle/lifecycle-registry.js';
import { describeConfigurationError } from './classify-error.js';
import { type CommandContext, indent, plural, repairHint, type WithRegistry } from './command-context.js';
import { formatPairs, formatTable, toJson } from './format.js';

/** Registers `jobs`, `job`, `servers` and `dump`. @internal */
export function registerViewCommands(program: Command, withRegistry: WithRegistry): void {
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
  for (const job of jobs) {
    if (job.configurationError === undefined) continue;
    context.out(`\n${job.jobName}: ${job.configurationError}\n`);
    context.out(`repair:\n${indent(repairHint(job.jobName), 2)}\n`);
  }
}

async function showJob(context: CommandContext, jobName: string): Promise<void> {
  const { apis, registry } = context;
  const stored = await apis.jobConfigurationAPI.getStoredConfiguration(jobName);
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
    const error = stored.error;
    context.out(
      toJson({
        job: brief,
        configuration: stored.configuration,
        stored: {
          yaml: stored.yaml,
          version: stored.version,
          error: error === undefined ? undefined : { message: error.message, issues: error.issues },
        },
        servers,
        instances,
        sharding,
      }),
    );
    return;
  }
  context.out(
    `Job ${jobName}: ${brief.status}, ${plural(brief.instanceCount, 'instance')}, ${plural(brief.shardingTotalCount, 'item')}\n\n`,
  );
  if (stored.configuration === undefined) {
    context.out(
      `CONFIGURATION ERROR\n${indent(describeConfigurationError(stored.error as JobConfigurationError), 2)}\n\n`,
    );
    context.out(`STORED VALUE (/${jobName}/config, version ${stored.version.slice(0, 12)})\n`);
    context.out(`${indent(stored.yaml, 2)}\n\n`);
    context.out(`REPAIR\n${indent(repairHint(jobName), 2)}\n`);
  } else {
    const { props, ...fields } = stored.configuration;
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
  }
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
