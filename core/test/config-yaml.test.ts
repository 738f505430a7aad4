import { describe, expect, it } from 'vitest';
import { Document, isMap } from 'yaml';
import {
  JobConfigurationError,
  parseJobConfigurationYaml,
  resolveJobConfiguration,
  toJobConfigurationYaml,
} from '../src/index.js';

/** ElasticJob 3.0.x's own fixture (JobConfigurationPOJOTest), as SnakeYAML writes it. */
const JAVA_YAML =
  'cron: 0/1 * * * * ?\n' +
  'description: Job description\n' +
  'disabled: false\n' +
  'failover: false\n' +
  'jobErrorHandlerType: IGNORE\n' +
  'jobExecutorThreadPoolSizeProviderType: CPU\n' +
  'jobName: test_job\n' +
  'jobParameter: param\n' +
  'jobShardingStrategyType: AVG_ALLOCATION\n' +
  'maxTimeDiffSeconds: -1\n' +
  'misfire: false\n' +
  'monitorExecution: false\n' +
  'overwrite: false\n' +
  'props:\n' +
  '  key: value\n' +
  'reconcileIntervalMinutes: 0\n' +
  'shardingItemParameters: 0=A,1=B,2=C\n' +
  'shardingTotalCount: 3\n' +
  'staticSharding: false\n';

/** The same fixture's variant with null fields, which SnakeYAML leaves out. */
const JAVA_YAML_WITH_NULL =
  'cron: 0/1 * * * * ?\n' +
  'disabled: false\n' +
  'failover: false\n' +
  'jobName: test_job\n' +
  'maxTimeDiffSeconds: -1\n' +
  'misfire: false\n' +
  'monitorExecution: false\n' +
  'overwrite: false\n' +
  'reconcileIntervalMinutes: 0\n' +
  'shardingTotalCount: 3\n' +
  'staticSharding: false\n';

function configurationError(run: () => unknown): JobConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JobConfigurationError);
    return error as JobConfigurationError;
  }
  throw new Error('expected a JobConfigurationError');
}

const keysOf = (yaml: string): string[] =>
  yaml
    .split('\n')
    .filter((line) => /^[A-Za-z]/.test(line))
    .map((line) => line.slice(0, line.indexOf(':')));

describe('toJobConfigurationYaml', () => {
  it("writes ElasticJob's fixture shape: its lines, in its order, plus the keys ElasticJob leaves out when empty", () => {
    const config = resolveJobConfiguration({
      jobName: 'test_job',
      cron: '0/1 * * * * ?',
      shardingTotalCount: 3,
      shardingItemParameters: '0=A,1=B,2=C',
      jobParameter: 'param',
      monitorExecution: false,
      misfire: false,
      reconcileIntervalMinutes: 0,
      jobErrorHandlerType: 'IGNORE',
      description: 'Job description',
      props: { key: 'value' },
    });
    const yaml = toJobConfigurationYaml(config);
    expect(yaml).toBe(
      JAVA_YAML.replace(
        'jobName: test_job\n',
        'jobExtraConfigurations: []\njobListenerTypes: []\njobName: test_job\n',
      ),
    );
  });

  it('writes every key in alphabetical order, one line each, keeping false, 0, -1 and empty strings', () => {
    const yaml = toJobConfigurationYaml(
      resolveJobConfiguration({ jobName: 'orders', shardingTotalCount: 1 }),
    );
    expect(yaml).toBe(
      [
        "cron: ''",
        "description: ''",
        'disabled: false',
        'failover: false',
        'jobErrorHandlerType: LOG',
        'jobExecutorThreadPoolSizeProviderType: CPU',
        'jobExtraConfigurations: []',
        'jobListenerTypes: []',
        'jobName: orders',
        "jobParameter: ''",
        'jobShardingStrategyType: AVG_ALLOCATION',
        'maxTimeDiffSeconds: -1',
        'misfire: true',
        'monitorExecution: true',
        'overwrite: false',
        'props: {}',
        'reconcileIntervalMinutes: 10',
        "shardingItemParameters: ''",
        'shardingTotalCount: 1',
        'staticSharding: false',
        '',
      ].join('\n'),
    );
  });

  it('writes timeZone and label when set, lists and nested props in YAML block form', () => {
    const yaml = toJobConfigurationYaml(
      resolveJobConfiguration({
        jobName: 'orders',
        shardingTotalCount: 1,
        timeZone: 'GMT+08:00',
        label: 'blue',
        jobListenerTypes: ['audit', 'metrics'],
        props: { 'z.last': 'z', 'a.first': 'a' },
      }),
    );
    const keys = keysOf(yaml);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toHaveLength(22);
    expect(yaml).toContain('jobListenerTypes:\n- audit\n- metrics\n');
    expect(yaml).toContain('label: blue\n');
    expect(yaml).toContain('props:\n  a.first: a\n  z.last: z\n');
    expect(yaml.endsWith('timeZone: GMT+08:00\n')).toBe(true);
  });

  it.each([
    ['0/5 * * * * ?', 'cron: 0/5 * * * * ?'],
    ['0 0 12 ? * MON#2', 'cron: 0 0 12 ? * MON#2'],
    ['0 15 10 L-2 * ?', 'cron: 0 15 10 L-2 * ?'],
    ['* * * * * ?', "cron: '* * * * * ?'"],
    ['*/5 * * * * ?', "cron: '*/5 * * * * ?'"],
    ['', "cron: ''"],
  ])('quotes the cron %j only when YAML needs it', (cron, line) => {
    const yaml = toJobConfigurationYaml(
      resolveJobConfiguration({ jobName: 'j', shardingTotalCount: 1, cron }),
    );
    expect(yaml.split('\n')[0]).toBe(line);
    expect(parseJobConfigurationYaml(yaml).cron).toBe(cron);
  });

  it.each([
    '123',
    'yes',
    'on',
    'true',
    'null',
    '~',
    '1:30',
    '0777',
    ' padded ',
    'a: b',
    'x #y',
    '- x',
    '@at',
    '{x}',
    '2024-01-01',
  ])('quotes the string %j so that YAML 1.1 readers (SnakeYAML) keep it a string', (description) => {
    const yaml = toJobConfigurationYaml(
      resolveJobConfiguration({ jobName: 'j', shardingTotalCount: 1, description }),
    );
    const line = yaml.split('\n')[1]!;
    expect(line).toMatch(/^description: '.*'$/);
    expect(parseJobConfigurationYaml(yaml).description).toBe(description);
  });

  it('writes strings with line breaks double-quoted on one line', () => {
    const config = resolveJobConfiguration({
      jobName: 'j',
      shardingTotalCount: 1,
      description: 'line 1\nline 2',
      props: { 'script.command.line': 'a\tb' },
    });
    const yaml = toJobConfigurationYaml(config);
    expect(yaml).toContain('description: "line 1\\nline 2"\n');
    expect(yaml).toContain('  script.command.line: "a\\tb"\n');
    expect(parseJobConfigurationYaml(yaml)).toEqual(config);
  });

  it('never folds long values', () => {
    const description = 'word '.repeat(50).trim();
    const yaml = toJobConfigurationYaml(
      resolveJobConfiguration({ jobName: 'j', shardingTotalCount: 1, description }),
    );
    expect(yaml).toContain(`description: ${description}\n`);
  });
});

describe('parseJobConfigurationYaml', () => {
  it("reads ElasticJob's fixture", () => {
    expect(parseJobConfigurationYaml(JAVA_YAML)).toEqual(
      resolveJobConfiguration({
        jobName: 'test_job',
        cron: '0/1 * * * * ?',
        shardingTotalCount: 3,
        shardingItemParameters: '0=A,1=B,2=C',
        jobParameter: 'param',
        monitorExecution: false,
        failover: false,
        misfire: false,
        maxTimeDiffSeconds: -1,
        reconcileIntervalMinutes: 0,
        jobShardingStrategyType: 'AVG_ALLOCATION',
        jobExecutorThreadPoolSizeProviderType: 'CPU',
        jobErrorHandlerType: 'IGNORE',
        description: 'Job description',
        props: { key: 'value' },
        disabled: false,
        overwrite: false,
        staticSharding: false,
      }),
    );
  });

  it("reads ElasticJob's null-field fixture, with builder defaults for the absent keys", () => {
    const config = parseJobConfigurationYaml(JAVA_YAML_WITH_NULL);
    expect(config.misfire).toBe(false);
    expect(config.reconcileIntervalMinutes).toBe(0);
    expect(config.shardingItemParameters).toBe('');
    expect(config.jobParameter).toBe('');
    expect(config.description).toBe('');
    expect(config.jobShardingStrategyType).toBe('AVG_ALLOCATION');
    expect(config.jobExecutorThreadPoolSizeProviderType).toBe('CPU');
    expect(config.jobErrorHandlerType).toBe('LOG');
    expect(config.props).toEqual({});
  });

  it('uses the builder defaults (not the POJO defaults) for absent keys and null values', () => {
    const config = parseJobConfigurationYaml(
      'jobName: orders\nshardingTotalCount: 2\ncron:\ntimeZone: null\n',
    );
    expect(config).toEqual(resolveJobConfiguration({ jobName: 'orders', shardingTotalCount: 2 }));
    expect(config.monitorExecution).toBe(true);
    expect(config.misfire).toBe(true);
    expect(config.reconcileIntervalMinutes).toBe(10);
  });

  it('round-trips a configuration with every field set', () => {
    const config = resolveJobConfiguration({
      jobName: 'orders',
      cron: '0 0/5 * ? * MON-FRI *',
      timeZone: 'Asia/Shanghai',
      shardingTotalCount: 5,
      shardingItemParameters: '0=Beijing,1=Shanghai,4=x',
      jobParameter: "it's 'quoted'",
      monitorExecution: true,
      failover: true,
      misfire: false,
      maxTimeDiffSeconds: 30,
      reconcileIntervalMinutes: -1,
      jobShardingStrategyType: 'ODEVITY',
      jobExecutorThreadPoolSizeProviderType: 'SINGLE_THREAD',
      jobErrorHandlerType: 'THROW',
      jobListenerTypes: ['audit', '123'],
      extraConfigurations: [{ type: 'RDB', nested: { list: [1, 'two'] } }],
      description: 'Orders — 注文',
      props: { 'script.command.line': '/bin/echo "hi"', '': 'empty key', yes: 'no', '0': '1' },
      disabled: true,
      overwrite: true,
      label: '',
      staticSharding: true,
    });
    const yaml = toJobConfigurationYaml(config);
    expect(parseJobConfigurationYaml(yaml)).toEqual(config);
    expect(toJobConfigurationYaml(parseJobConfigurationYaml(yaml))).toBe(yaml);
  });

  it('reads the legacy key jobExecutorServiceHandlerType when the new key is absent', () => {
    expect(
      parseJobConfigurationYaml(
        'jobName: j\nshardingTotalCount: 1\njobExecutorServiceHandlerType: SINGLE_THREAD\n',
      ).jobExecutorThreadPoolSizeProviderType,
    ).toBe('SINGLE_THREAD');
    expect(
      parseJobConfigurationYaml(
        'jobExecutorServiceHandlerType: SINGLE_THREAD\njobExecutorThreadPoolSizeProviderType: CPU\njobName: j\nshardingTotalCount: 1\n',
      ).jobExecutorThreadPoolSizeProviderType,
    ).toBe('CPU');
  });

  it('ignores unknown keys (a newer Java peer may write them), including the API spelling extraConfigurations', () => {
    const config = parseJobConfigurationYaml(
      'jobName: j\nshardingTotalCount: 1\nsomeFutureKey: {a: 1}\nextraConfigurations: [x]\nlabels: l\n',
    );
    expect(config).toEqual(resolveJobConfiguration({ jobName: 'j', shardingTotalCount: 1 }));
  });

  it('keeps the tag of tagged jobExtraConfigurations items so that writing them back keeps it', () => {
    const yaml =
      'jobExtraConfigurations:\n' +
      '- !!org.apache.shardingsphere.elasticjob.tracing.yaml.YamlTracingConfiguration\n' +
      '  type: RDB\n' +
      '- plain: 1\n' +
      'jobName: j\n' +
      'shardingTotalCount: 1\n';
    const config = parseJobConfigurationYaml(yaml);
    expect(config.extraConfigurations).toHaveLength(2);
    expect(isMap(config.extraConfigurations[0])).toBe(true);
    expect(config.extraConfigurations[1]).toEqual({ plain: 1 });
    const written = toJobConfigurationYaml(config);
    expect(written).toContain(
      'jobExtraConfigurations:\n- !!org.apache.shardingsphere.elasticjob.tracing.yaml.YamlTracingConfiguration\n  type: RDB\n- plain: 1\n',
    );
  });

  it('keeps the text of scalars in string fields and props, as SnakeYAML does for String properties', () => {
    const config = parseJobConfigurationYaml(
      'jobName: j\nshardingTotalCount: 1\njobParameter: 0777\ndescription: yes\nlabel: 1.50\nprops:\n  timeout: 30\n  on: off\njobListenerTypes: [123]\n',
    );
    expect(config.jobParameter).toBe('0777');
    expect(config.description).toBe('yes');
    expect(config.label).toBe('1.50');
    expect(config.props).toEqual({ timeout: '30', on: 'off' });
    expect(config.jobListenerTypes).toEqual(['123']);
  });

  it('reads YAML 1.1 booleans as SnakeYAML does', () => {
    const config = parseJobConfigurationYaml(
      'jobName: j\nshardingTotalCount: 1\nfailover: yes\nmisfire: off\n',
    );
    expect(config.failover).toBe(true);
    expect(config.misfire).toBe(false);
  });

  it('rejects malformed YAML with field "", the parser error as cause and the raw text kept', () => {
    const text = 'jobName: j\nshardingTotalCount: [1\n';
    const error = configurationError(() => parseJobConfigurationYaml(text));
    expect(error.field).toBe('');
    expect(error.source).toBe(text);
    expect(error.cause).toBeInstanceOf(Error);
    // The first error only, positioned, with the line and a caret under the position.
    expect(error.issues).toHaveLength(1);
    expect(error.message).toBe(
      'Invalid job configuration: malformed YAML at line 2, column 23: ' +
        'Flow sequence in block collection must be sufficiently indented and end with a ]\n' +
        '  2 | shardingTotalCount: [1\n' +
        '    |                       ^',
    );
  });

  it('reports one positioned error for YAML the parser finds many errors in', () => {
    const text = 'jobName: j\ncron: "0 * * * * ?\ndescription: [a, {b: c\n\tprops: x\n';
    const error = configurationError(() => parseJobConfigurationYaml(text));
    expect(error.issues).toHaveLength(1);
    const [headline, excerpt, caret] = error.message.split('\n');
    expect(headline).toMatch(/^Invalid job configuration: malformed YAML at line (\d+), column (\d+): \S/);
    const [, line, column] = /line (\d+), column (\d+)/.exec(headline!)!;
    expect(excerpt).toBe(`  ${line} | ${text.split('\n')[Number(line) - 1]}`);
    expect(caret!.indexOf('^') - caret!.indexOf('|') - 2).toBe(Number(column) - 1);
  });

  it('rejects duplicate keys', () => {
    const error = configurationError(() =>
      parseJobConfigurationYaml('jobName: a\njobName: b\nshardingTotalCount: 1\n'),
    );
    expect(error.field).toBe('');
    expect(error.message).toMatch(/unique/i);
  });

  it.each(['', '- a\n- b\n', 'just text\n', '42\n'])('rejects %j, which is not a map', (text) => {
    const error = configurationError(() => parseJobConfigurationYaml(text));
    expect(error.field).toBe('');
    expect(error.source).toBe(text);
    expect(error.message).toMatch(/must be a map/);
  });

  it('rejects invalid values naming every field, with the job name and the raw text', () => {
    const text =
      'jobName: orders\nshardingTotalCount: abc\nfailover: maybe\nprops:\n  a:\n  b: [1]\nshardingItemParameters: 0=a=b\n';
    const error = configurationError(() => parseJobConfigurationYaml(text));
    expect(error.jobName).toBe('orders');
    expect(error.source).toBe(text);
    expect(error.issues.map((issue) => issue.field)).toEqual([
      'shardingTotalCount',
      'shardingItemParameters',
      'failover',
      'props.a',
      'props.b',
    ]);
    expect(error.issues[0]!.message).toBe(
      'shardingTotalCount = "abc" is invalid: expected an integer from 1 to 2147483647',
    );
  });

  it('rejects failover without monitorExecution in registry YAML too', () => {
    const error = configurationError(() =>
      parseJobConfigurationYaml(
        'jobName: j\nshardingTotalCount: 1\nfailover: true\nmonitorExecution: false\n',
      ),
    );
    expect(error.field).toBe('failover');
  });

  it('is the inverse of toJobConfigurationYaml for a Document-built config', () => {
    const text = new Document({ jobName: 'x', shardingTotalCount: 2, props: { a: 'b' } }).toString();
    expect(parseJobConfigurationYaml(toJobConfigurationYaml(parseJobConfigurationYaml(text)))).toEqual(
      parseJobConfigurationYaml(text),
    );
  });
});
