/**
 * What every registry command of the `elasticjob` CLI gets, and small output helpers they share.
 *
 * @module
 * @internal
 */
import type { JobOperationAPIs } from '../lifecycle/job-operation-apis.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { CliError, ExitCode } from './errors.js';

/** What a registry command's action gets. @internal */
export interface CommandContext {
  readonly registry: CoordinatorRegistryCenter;
  readonly apis: JobOperationAPIs;
  readonly json: boolean;
  readonly out: (text: string) => void;
  /** The registry, described for messages. */
  readonly where: string;
}

/** Wraps an action so that it runs with a connected registry, closed afterwards. @internal */
export type WithRegistry = (
  command: import('commander').Command,
  action: (context: CommandContext) => Promise<void>,
) => () => Promise<void>;

/** `3 instances`, `1 item`. @internal */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `: a, b` or `''`. @internal */
export function list(names: readonly string[]): string {
  return names.length === 0 ? '' : `: ${names.join(', ')}`;
}

/** How `config set` shows a value. @internal */
export function show(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Indents every line of `text` by `spaces`. @internal */
export function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => `${pad}${line}`.trimEnd())
    .join('\n');
}

/**
 * The commands that repair a job whose stored configuration is invalid.
 * @internal
 */
export function repairHint(jobName: string): string {
  return (
    `elasticjob config get ${jobName} --raw > ${jobName}.yaml   # then fix the file\n` +
    `elasticjob config replace ${jobName} --file ${jobName}.yaml`
  );
}

/**
 * Parses a positive bound in ms given on the command line.
 * @internal
 */
export function parseMs(option: string, minimum: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < minimum || number > 2_147_483_647) {
      throw new CliError(
        ExitCode.USAGE,
        `Invalid ${option} ${JSON.stringify(value)}: expected an integer of ms from ${minimum} to 2147483647`,
      );
    }
    return number;
  };
}
