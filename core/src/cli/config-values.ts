/**
 * `elasticjob config get|set`: which fields can be read and set, and how a command-line value is
 * parsed for each.
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../config/job-configuration.js';
import { CliError, ExitCode } from './errors.js';

type FieldKind = 'string' | 'integer' | 'boolean' | 'stringList';

interface FieldSpec {
  readonly kind: FieldKind;
  /** What the field accepts, for messages. */
  readonly accepted: string;
}

/** Fields `config set` can change, with their kind and accepted values. */
const SETTABLE_FIELDS: Readonly<Record<string, FieldSpec>> = {
  cron: { kind: 'string', accepted: `a Quartz cron expression, e.g. '0/5 * * * * ?'` },
  timeZone: { kind: 'string', accepted: `an IANA zone (Asia/Shanghai) or GMT+08:00; '' for the default` },
  shardingTotalCount: { kind: 'integer', accepted: 'an integer from 1 to 2147483647' },
  shardingItemParameters: { kind: 'string', accepted: `'item=parameter' pairs joined by ',', e.g. 0=a,1=b` },
  jobParameter: { kind: 'string', accepted: 'any string' },
  monitorExecution: { kind: 'boolean', accepted: 'true or false' },
  failover: { kind: 'boolean', accepted: 'true or false' },
  misfire: { kind: 'boolean', accepted: 'true or false' },
  maxTimeDiffSeconds: { kind: 'integer', accepted: 'an integer (seconds; < 0 disables the check)' },
  reconcileIntervalMinutes: { kind: 'integer', accepted: 'an integer (minutes; <= 0 disables reconcile)' },
  jobShardingStrategyType: {
    kind: 'string',
    accepted: 'AVG_ALLOCATION, ODEVITY, ROUND_ROBIN, SINGLE_SHARDING_BALANCE or a registered type',
  },
  jobExecutorThreadPoolSizeProviderType: {
    kind: 'string',
    accepted: 'CPU, SINGLE_THREAD or a registered type',
  },
  jobErrorHandlerType: { kind: 'string', accepted: 'LOG, THROW, IGNORE or a registered type' },
  jobListenerTypes: { kind: 'stringList', accepted: `listener types joined by ','; '' for none` },
  description: { kind: 'string', accepted: 'any string' },
  disabled: { kind: 'boolean', accepted: 'true or false' },
  overwrite: { kind: 'boolean', accepted: 'true or false' },
  label: { kind: 'string', accepted: 'any string' },
  staticSharding: { kind: 'boolean', accepted: 'true or false' },
};

/** The readable fields: every settable one, plus `jobName`, `props`, `extraConfigurations`. */
const READ_ONLY_FIELDS = ['jobName', 'props', 'extraConfigurations'] as const;

const PROPS_PREFIX = 'props.';

function acceptedFieldList(): string {
  return `${Object.keys(SETTABLE_FIELDS).join(', ')}, props.<name>`;
}

/**
 * Reads one field of a configuration for `config get`: a top-level field or `props.<name>`.
 *
 * @param configuration - the stored configuration.
 * @param field - the field name.
 * @returns the value (`undefined` for an unset `timeZone`/`label`/prop).
 * @throws {CliError} exit code 2 for an unknown field, naming the accepted ones.
 */
export function readConfigField(configuration: ResolvedJobConfiguration, field: string): unknown {
  if (field.startsWith(PROPS_PREFIX) && field.length > PROPS_PREFIX.length) {
    return configuration.props[field.slice(PROPS_PREFIX.length)];
  }
  if (field in SETTABLE_FIELDS || (READ_ONLY_FIELDS as readonly string[]).includes(field)) {
    return configuration[field as keyof ResolvedJobConfiguration];
  }
  throw new CliError(
    ExitCode.USAGE,
    `Unknown configuration field '${field}'; accepted: ${[...READ_ONLY_FIELDS, acceptedFieldList()].join(', ')}`,
  );
}

/**
 * Applies `config set <field> <value>` to a configuration: parses `value` by the field's type
 * (integers, `true`/`false`, comma-separated lists, strings as given; `props.<name>` sets one prop).
 * The result is validated by the caller (`updateJobConfiguration`).
 *
 * @param configuration - the stored configuration.
 * @param field - the field to set.
 * @param value - the value as typed.
 * @returns the new configuration and the parsed value.
 * @throws {CliError} exit code 2 naming the field and the accepted values, for an unknown or
 *   read-only field or a value of the wrong type.
 */
export function applyConfigValue(
  configuration: ResolvedJobConfiguration,
  field: string,
  value: string,
): { configuration: ResolvedJobConfiguration; value: unknown } {
  if (field.startsWith(PROPS_PREFIX) && field.length > PROPS_PREFIX.length) {
    const name = field.slice(PROPS_PREFIX.length);
    return { configuration: { ...configuration, props: { ...configuration.props, [name]: value } }, value };
  }
  const spec = SETTABLE_FIELDS[field];
  if (spec === undefined) {
    const why =
      field === 'jobName'
        ? 'the job name is its identity and cannot be changed'
        : field === 'props'
          ? 'set one prop at a time with props.<name>'
          : field === 'extraConfigurations'
            ? 'it holds structured data; edit it through the API'
            : 'it is not a job configuration field';
    throw new CliError(ExitCode.USAGE, `Cannot set '${field}': ${why}; settable: ${acceptedFieldList()}`);
  }
  const invalid = (): never => {
    throw new CliError(
      ExitCode.USAGE,
      `Invalid value ${JSON.stringify(value)} for ${field}: expected ${spec.accepted}`,
    );
  };
  let parsed: unknown;
  switch (spec.kind) {
    case 'string':
      parsed = value;
      break;
    case 'integer': {
      const number = Number(value.trim());
      if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) invalid();
      parsed = number;
      break;
    }
    case 'boolean':
      if (value !== 'true' && value !== 'false') invalid();
      parsed = value === 'true';
      break;
    case 'stringList':
      parsed = value.trim() === '' ? [] : value.split(',').map((item) => item.trim());
      break;
  }
  return { configuration: { ...configuration, [field]: parsed }, value: parsed };
}
