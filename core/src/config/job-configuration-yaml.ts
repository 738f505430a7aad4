/**
 * The registry form of a job configuration: the YAML in `/{namespace}/{jobName}/config`, readable
 * and writable by ElasticJob 3.0.x (`JobConfigurationPOJO` marshalled by SnakeYAML).
 *
 * @module
 */

import { Document, isMap, isNode, isPair, isScalar, isSeq, type Node, parseDocument, Scalar } from 'yaml';
import type { JobConfiguration, ResolvedJobConfiguration } from './job-configuration.js';
import { describeValue, JobConfigurationError } from './job-configuration-error.js';
import { resolveWithOptions } from './resolve-job-configuration.js';
import { firstYamlSyntaxProblem, formatYamlSyntaxProblem } from './yaml-syntax-error.js';

/**
 * YAML 1.1, as SnakeYAML speaks it: strings such as `yes`, `on`, `1:30` or `0777` are quoted when
 * written, so a Java reader cannot take them for booleans or numbers.
 */
const SCHEMA = 'yaml-1.1';

/** YAML key → {@link JobConfiguration} key, where they differ. */
const YAML_KEY_TO_FIELD: Readonly<Record<string, keyof JobConfiguration>> = {
  jobExtraConfigurations: 'extraConfigurations',
};

/** Older spelling of `jobExecutorThreadPoolSizeProviderType` (ElasticJob's UI form and XML attribute). */
const LEGACY_THREAD_POOL_KEY = 'jobExecutorServiceHandlerType';

type FieldKind = 'string' | 'boolean' | 'integer' | 'stringList' | 'list' | 'stringMap';

const FIELD_KINDS: Readonly<Record<keyof JobConfiguration, FieldKind>> = {
  jobName: 'string',
  cron: 'string',
  timeZone: 'string',
  shardingTotalCount: 'integer',
  shardingItemParameters: 'string',
  jobParameter: 'string',
  monitorExecution: 'boolean',
  failover: 'boolean',
  misfire: 'boolean',
  maxTimeDiffSeconds: 'integer',
  reconcileIntervalMinutes: 'integer',
  jobShardingStrategyType: 'string',
  jobExecutorThreadPoolSizeProviderType: 'string',
  jobErrorHandlerType: 'string',
  jobListenerTypes: 'stringList',
  extraConfigurations: 'list',
  description: 'string',
  props: 'stringMap',
  disabled: 'boolean',
  overwrite: 'boolean',
  label: 'string',
  staticSharding: 'boolean',
};

/**
 * Writes a resolved configuration as the YAML ElasticJob 3.0.x stores in the `config` node
 * (`JobConfigurationPOJO` as SnakeYAML's `dumpAsMap` writes it):
 *
 * - keys in alphabetical order, one `key: value` line each (`props` as a nested map with sorted
 *   keys, `jobListenerTypes` and `jobExtraConfigurations` as YAML lists);
 * - every key is written, including `false`, `0`, `-1`, `description: ''`, `jobListenerTypes: []`,
 *   `jobExtraConfigurations: []` and `props: {}`, so a reader never falls back to its own defaults
 *   (ElasticJob's POJO defaults `monitorExecution`/`misfire` to `false` and
 *   `reconcileIntervalMinutes` to `0` when a key is absent). ElasticJob drops empty collections;
 *   Java reads the empty forms fine. The exceptions are `timeZone` and `label` when `undefined`:
 *   an absent key means "unset" to every reader, so writing `null` would add nothing;
 * - `extraConfigurations` is written under ElasticJob's key `jobExtraConfigurations`;
 * - strings are plain unless YAML 1.1 needs quotes (as SnakeYAML does): `0/5 * * * * ?` stays plain,
 *   `* * * * * ?`, `''`, `'123'`, `'yes'` are single-quoted; strings with line breaks or control
 *   characters are double-quoted on one line; long lines are never folded.
 *
 * @param config - a resolved configuration (see {@link resolveJobConfiguration}); not re-validated.
 * @returns the YAML text, ending with a newline.
 *
 * @example
 * ```ts
 * toJobConfigurationYaml(resolveJobConfiguration({ jobName: 'orders', cron: '0/5 * * * * ?', shardingTotalCount: 3 }));
 * // cron: 0/5 * * * * ?
 * // description: ''
 * // disabled: false
 * // ...
 * ```
 */
export function toJobConfigurationYaml(config: ResolvedJobConfiguration): string {
  const values: Record<string, unknown> = {
    cron: config.cron,
    description: config.description,
    disabled: config.disabled,
    failover: config.failover,
    jobErrorHandlerType: config.jobErrorHandlerType,
    jobExecutorThreadPoolSizeProviderType: config.jobExecutorThreadPoolSizeProviderType,
    jobExtraConfigurations: [...config.extraConfigurations],
    jobListenerTypes: [...config.jobListenerTypes],
    jobName: config.jobName,
    jobParameter: config.jobParameter,
    jobShardingStrategyType: config.jobShardingStrategyType,
    label: config.label,
    maxTimeDiffSeconds: config.maxTimeDiffSeconds,
    misfire: config.misfire,
    monitorExecution: config.monitorExecution,
    overwrite: config.overwrite,
    props: Object.fromEntries(Object.entries(config.props).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    reconcileIntervalMinutes: config.reconcileIntervalMinutes,
    shardingItemParameters: config.shardingItemParameters,
    shardingTotalCount: config.shardingTotalCount,
    staticSharding: config.staticSharding,
    timeZone: config.timeZone,
  };
  const entries = Object.entries(values).filter(([, value]) => value !== undefined);
  const document = new Document(Object.fromEntries(entries), { schema: SCHEMA });
  forceOneLineStrings(document.contents);
  return document.toString({
    singleQuote: true,
    lineWidth: 0,
    blockQuote: false,
    indentSeq: false,
    flowCollectionPadding: false,
  });
}

/**
 * Reads the YAML of a `config` node, as written by ElasticJob (Java) or {@link toJobConfigurationYaml}.
 *
 * - Absent keys and `null` values take the builder defaults of {@link resolveJobConfiguration}
 *   — deliberately not ElasticJob's POJO defaults (`false`/`false`/`0`),
 *   which only matter for YAML that omits keys; ElasticJob-TS always writes every key.
 * - `jobExtraConfigurations` becomes `extraConfigurations`; items carrying a YAML tag (ElasticJob
 *   writes its tracing configuration as a tagged object) are kept as `yaml` `Node`s so that writing
 *   them back keeps the tag; untagged items become plain values.
 * - The legacy key `jobExecutorServiceHandlerType` is read as `jobExecutorThreadPoolSizeProviderType`
 *   when the latter is absent.
 * - Unknown keys are ignored (a newer Java peer may write keys this version does not know).
 * - Like SnakeYAML filling a `String` property, a scalar in a string field keeps its text
 *   (`jobParameter: 0777` → `'0777'`), and so do `props` keys and values (`timeout: 30` → `'30'`).
 * - Values are then validated as by {@link resolveJobConfiguration}.
 *
 * @param text - the YAML text.
 * @returns the resolved configuration.
 * @throws {JobConfigurationError} for malformed YAML (field `''`, the parser's first error as
 *   `cause`; the message gives its line and column and quotes the line with a caret under the
 *   position), a top level that is not a map, or invalid values (one issue per problem). The raw
 *   text is kept in the error's `source` property.
 */
export function parseJobConfigurationYaml(text: string): ResolvedJobConfiguration {
  if (typeof text !== 'string')
    throw new TypeError(`job configuration YAML must be a string, got ${describeValue(text)}`);
  return resolveWithOptions(readJobConfigurationYamlFields(text), { source: text });
}

/**
 * The fields of a `config` node's YAML as plain values, before validation (see
 * {@link parseJobConfigurationYaml} for how keys and scalars are read).
 *
 * @param text - the YAML text.
 * @returns the configuration fields found (absent and `null` keys left out).
 * @throws {JobConfigurationError} (field `''`, the text as `source`) for malformed YAML — the first
 *   syntax error only, with its line, column and a caret under the text — or a top level that is
 *   not a map.
 * @internal
 */
export function readJobConfigurationYamlFields(text: string): Record<string, unknown> {
  const document = parseDocument(text, { schema: SCHEMA, uniqueKeys: true, prettyErrors: true });
  const problem = firstYamlSyntaxProblem(document.errors, text);
  if (problem !== undefined) {
    throw new JobConfigurationError('', formatYamlSyntaxProblem(problem), {
      cause: document.errors[0],
      source: text,
    });
  }
  const root = document.contents;
  if (!isMap(root)) {
    const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
    throw new JobConfigurationError(
      '',
      `the YAML must be a map of job configuration keys, got ${describeValue(document.toJS())}; ` +
        `first line: ${describeValue(firstLine)}`,
      { source: text },
    );
  }
  const config: Record<string, unknown> = {};
  let legacyThreadPool: Node | null | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) continue;
    const value = pair.value as Node | null;
    if (key === LEGACY_THREAD_POOL_KEY) {
      legacyThreadPool = value;
      continue;
    }
    const field =
      YAML_KEY_TO_FIELD[key] ??
      (Object.hasOwn(FIELD_KINDS, key) ? (key as keyof JobConfiguration) : undefined);
    // The API spelling `extraConfigurations` is not a YAML key (ElasticJob writes `jobExtraConfigurations`).
    if (field === undefined || (field === 'extraConfigurations' && key !== 'jobExtraConfigurations'))
      continue;
    readField(config, field, value, document);
  }
  if (config.jobExecutorThreadPoolSizeProviderType === undefined && legacyThreadPool !== undefined) {
    readField(config, 'jobExecutorThreadPoolSizeProviderType', legacyThreadPool, document);
  }
  return config;
}

function readField(
  config: Record<string, unknown>,
  field: keyof JobConfiguration,
  node: Node | null,
  document: Document,
): void {
  if (node === null || (isScalar(node) && node.value === null)) return;
  switch (FIELD_KINDS[field]) {
    case 'string':
      config[field] = isScalar(node) ? scalarText(node) : node.toJS(document);
      return;
    case 'boolean':
    case 'integer':
      config[field] = node.toJS(document);
      return;
    case 'stringList':
      config[field] = isSeq(node)
        ? node.items.map((item) =>
            isScalar(item) ? scalarText(item) : isNode(item) ? item.toJS(document) : item,
          )
        : node.toJS(document);
      return;
    case 'list':
      config[field] = isSeq(node)
        ? node.items.map((item) =>
            isNode(item) && item.tag !== undefined ? item.clone() : isNode(item) ? item.toJS(document) : item,
          )
        : node.toJS(document);
      return;
    case 'stringMap': {
      if (!isMap(node)) {
        config[field] = node.toJS(document);
        return;
      }
      const props: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key)
          ? scalarText(pair.key)
          : String(isNode(pair.key) ? pair.key.toJS(document) : pair.key);
        const value = pair.value;
        // A key without a value stays `null`, which validation reports as `props.<key>`.
        props[key] =
          value === null
            ? null
            : isScalar(value)
              ? value.value === null
                ? null
                : scalarText(value)
              : isNode(value)
                ? value.toJS(document)
                : value;
      }
      config[field] = props;
      return;
    }
  }
}

/** The text of a scalar: its string value, or for numbers, booleans, dates the source text. */
function scalarText(node: Scalar): string {
  if (typeof node.value === 'string') return node.value;
  return node.source ?? String(node.value);
}

/** Strings that would need a block or a multi-line quoted scalar are double-quoted with escapes. */
function forceOneLineStrings(node: unknown): void {
  if (isScalar(node)) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for
    if (typeof node.value === 'string' && /[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(node.value)) {
      node.type = Scalar.QUOTE_DOUBLE;
    }
  } else if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      if (isPair(item)) {
        forceOneLineStrings(item.key);
        forceOneLineStrings(item.value);
      } else {
        forceOneLineStrings(item);
      }
    }
  }
}
