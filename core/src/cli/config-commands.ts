/**
 * `elasticjob config get | set | replace`: read and change a job configuration in the registry.
 * `replace` is the repair path for a stored configuration that no longer parses.
 *
 * @module
 * @internal
 */

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import { JobConfigurationError } from '../config/job-configuration-error.js';
import { toJobConfigurationYaml } from '../config/job-configuration-yaml.js';
import { describeConfigurationError } from './classify-error.js';
import { type CommandContext, indent, repairHint, show, type WithRegistry } from './command-context.js';
import { applyConfigValue, readConfigField } from './config-values.js';
import { CliError, ExitCode } from './errors.js';
import { toJson } from './format.js';

/** Registers `config get|set|replace`. @internal */
export function registerConfigCommands(program: Command, withRegistry: WithRegistry): void {
  const config = program.command('config').description('read or change a job configuration in the registry');
  const configGet = config
    .command('get')
    .description('print the configuration (YAML) or one field (a field name or props.<name>)')
    .argument('<job>', 'the job')
    .argument('[field]', 'one field')
    .option(
      '--raw',
      'print the stored value exactly as it is, even when it is invalid (with --json: and its version)',
    );
  configGet.action(
    withRegistry(configGet, async (context) => {
      const [jobName, field] = configGet.args as [string, string | undefined];
      if (configGet.opts<{ raw?: boolean }>().raw === true) {
        if (field !== undefined)
          throw new CliError(ExitCode.USAGE, '--raw prints the whole value: give no field');
        const stored = await context.apis.jobConfigurationAPI.getStoredConfiguration(jobName);
        if (context.json) {
          context.out(
            toJson({ jobName, yaml: stored.yaml, version: stored.version, error: stored.error?.message }),
          );
        } else
          context.out(stored.yaml.endsWith('\n') || stored.yaml === '' ? stored.yaml : `${stored.yaml}\n`);
        return;
      }
      const configuration = await readValid(context, jobName);
      if (field === undefined) {
        context.out(context.json ? toJson(configuration) : toJobConfigurationYaml(configuration));
        return;
      }
      const value = readConfigField(configuration, field);
      if (context.json) context.out(toJson({ jobName, field, value }));
      else context.out(fieldText(value));
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
      const stored = await context.apis.jobConfigurationAPI.getStoredConfiguration(jobName);
      const current = validOrRepairHint(jobName, stored.configuration, stored.error);
      const next = applyConfigValue(current, field, value);
      const previous = readConfigField(current, field);
      try {
        // Conditional on the value read above: a concurrent change is a conflict, not overwritten.
        await context.apis.jobConfigurationAPI.updateJobConfiguration(next.configuration, {
          expectedVersion: stored.version,
        });
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

  const configReplace = config
    .command('replace')
    .description(
      'replace the whole configuration with a YAML file (validated; written only if the stored value did not change meanwhile); prints the diff. Repairs a configuration that does not parse',
    )
    .argument('<job>', 'the job')
    .requiredOption('--file <path>', "the new configuration (YAML, as 'config get' prints it)")
    .option(
      '--expected-version <version>',
      "write only if the stored value still has this version (from 'config get --raw --json')",
    );
  configReplace.action(
    withRegistry(configReplace, async (context) => {
      const jobName = configReplace.args[0]!;
      const options = configReplace.opts<{ file: string; expectedVersion?: string }>();
      const yaml = await readConfigurationFile(options.file);
      const result = await context.apis.jobConfigurationAPI.replaceJobConfiguration(jobName, yaml, {
        ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
      });
      if (context.json) {
        context.out(
          toJson({
            jobName,
            changed: result.diff !== '',
            previousVersion: result.previous.version,
            version: result.current.version,
            diff: result.diff,
          }),
        );
        return;
      }
      if (result.diff === '') {
        context.out(`No change: the configuration of job '${jobName}' already is ${options.file}\n`);
        return;
      }
      context.out(result.diff.endsWith('\n') ? result.diff : `${result.diff}\n`);
      context.out(
        `Replaced the configuration of job '${jobName}' (version ${result.current.version.slice(0, 12)})\n`,
      );
    }),
  );
}

/** The valid configuration of a job, or a usage error that says how to repair an invalid one. */
async function readValid(context: CommandContext, jobName: string) {
  const stored = await context.apis.jobConfigurationAPI.getStoredConfiguration(jobName);
  return validOrRepairHint(jobName, stored.configuration, stored.error);
}

function validOrRepairHint<T>(
  jobName: string,
  configuration: T | undefined,
  error: JobConfigurationError | undefined,
): T {
  if (configuration !== undefined) return configuration;
  throw new CliError(
    ExitCode.USAGE,
    `The stored configuration of job '${jobName}' is invalid:\n${indent(describeConfigurationError(error!), 2)}\n` +
      `Repair it as a whole:\n${indent(repairHint(jobName), 2)}`,
    { cause: error },
  );
}

async function readConfigurationFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : String((cause as Error).message);
    throw new CliError(ExitCode.USAGE, `Cannot read --file ${JSON.stringify(path)}: ${reason}`, { cause });
  }
}

/**
 * A field's value as `config get <job> <field>` prints it: a scalar as its text, a list of scalars
 * comma-separated (as `config set` takes it), a map or a list of maps (`props`,
 * `extraConfigurations`) as YAML.
 */
function fieldText(value: unknown): string {
  if (value === undefined) return '\n';
  const scalar = (item: unknown) => item === null || typeof item !== 'object';
  if (Array.isArray(value) && value.every(scalar)) return `${value.join(',')}\n`;
  if (scalar(value)) return `${String(value)}\n`;
  return stringifyYaml(value);
}
