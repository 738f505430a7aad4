import { describe, expect, it } from 'vitest';
import {
  JOB_CONFIGURATION_DEFAULTS,
  type JobConfiguration,
  JobConfigurationError,
  parseShardingItemParameters,
  resolveJobConfiguration,
  validateJobConfiguration,
  validateJobConfigurationYaml,
} from '../src/index.js';

function configurationError(run: () => unknown): JobConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JobConfigurationError);
    return error as JobConfigurationError;
  }
  throw new Error('expected a JobConfigurationError');
}

const minimal: JobConfiguration = { jobName: 'orders', shardingTotalCount: 3 };

describe('resolveJobConfiguration', () => {
  it('applies the ElasticJob builder defaults to absent fields', () => {
    expect(resolveJobConfiguration(minimal)).toEqual({
      jobName: 'orders',
      cron: '',
      timeZone: undefined,
      shardingTotalCount: 3,
      shardingItemParameters: '',
      jobParameter: '',
      monitorExecution: true,
      failover: false,
      misfire: true,
      maxTimeDiffSeconds: -1,
      reconcileIntervalMinutes: 10,
      jobShardingStrategyType: 'AVG_ALLOCATION',
      jobExecutorThreadPoolSizeProviderType: 'CPU',
      jobErrorHandlerType: 'LOG',
      jobListenerTypes: [],
      extraConfigurations: [],
      description: '',
      props: {},
      disabled: false,
      overwrite: false,
      label: undefined,
      staticSharding: false,
    });
    expect({ ...JOB_CONFIGURATION_DEFAULTS, jobName: 'orders', shardingTotalCount: 3 }).toEqual(
      resolveJobConfiguration(minimal),
    );
  });

  it('keeps every given value and copies arrays and props into a frozen result', () => {
    const listeners = ['audit'];
    const props = { 'script.command.line': 'echo hi' };
    const given: JobConfiguration = {
      jobName: 'orders.v2_x-1',
      cron: '0/5 * * * * ?',
      timeZone: 'GMT+08:00',
      shardingTotalCount: 4,
      shardingItemParameters: '0=Beijing, 3 = Shanghai',
      jobParameter: 'p',
      monitorExecution: true,
      failover: true,
      misfire: false,
      maxTimeDiffSeconds: 5,
      reconcileIntervalMinutes: 0,
      jobShardingStrategyType: 'ROUND_ROBIN',
      jobExecutorThreadPoolSizeProviderType: 'SINGLE_THREAD',
      jobErrorHandlerType: 'THROW',
      jobListenerTypes: listeners,
      extraConfigurations: [{ type: 'RDB' }],
      description: 'the orders job',
      props,
      disabled: true,
      overwrite: true,
      label: 'blue',
      staticSharding: true,
    };
    const resolved = resolveJobConfiguration(given);
    expect(resolved).toEqual(given);
    listeners.push('later');
    props['script.command.line'] = 'changed';
    expect(resolved.jobListenerTypes).toEqual(['audit']);
    expect(resolved.props).toEqual({ 'script.command.line': 'echo hi' });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.props)).toBe(true);
    expect(Object.isFrozen(resolved.jobListenerTypes)).toBe(true);
  });

  it('treats empty type names and an empty time zone as unset, as ElasticJob treats null', () => {
    const resolved = resolveJobConfiguration({
      ...minimal,
      timeZone: '',
      jobShardingStrategyType: '',
      jobExecutorThreadPoolSizeProviderType: '',
      jobErrorHandlerType: '',
    });
    expect(resolved.timeZone).toBeUndefined();
    expect(resolved.jobShardingStrategyType).toBe('AVG_ALLOCATION');
    expect(resolved.jobExecutorThreadPoolSizeProviderType).toBe('CPU');
    expect(resolved.jobErrorHandlerType).toBe('LOG');
  });

  it.each(['orders', 'a', 'job_1', 'my-job.v2', 'A.B', 'ünïcode', '报表', 'हिन्दी', 'заказы-2'])(
    'accepts job name %j',
    (jobName) => {
      expect(resolveJobConfiguration({ jobName, shardingTotalCount: 1 }).jobName).toBe(jobName);
    },
  );

  it.each(['', 'a/b', '/orders', '.', '..', 'has space', 'a:b', '报表 2', 'x\u0000y', '🚀'])(
    'rejects job name %j',
    (jobName) => {
      const error = configurationError(() => resolveJobConfiguration({ jobName, shardingTotalCount: 1 }));
      expect(error.field).toBe('jobName');
      expect(error.issues).toHaveLength(1);
      expect(error.message).toContain(JSON.stringify(jobName));
      expect(error.message).toMatch(/letters and digits of any script/);
    },
  );

  it('requires jobName and shardingTotalCount', () => {
    const error = configurationError(() => resolveJobConfiguration({} as JobConfiguration));
    expect(error.issues.map((issue) => issue.field)).toEqual(['jobName', 'shardingTotalCount']);
    expect(error.issues[0]!.message).toMatch(/^jobName is required: expected/);
    expect(error.jobName).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '3'])(
    'rejects shardingTotalCount %j naming the value and the accepted range',
    (shardingTotalCount) => {
      const error = configurationError(() =>
        resolveJobConfiguration({ jobName: 'orders', shardingTotalCount: shardingTotalCount as number }),
      );
      expect(error.field).toBe('shardingTotalCount');
      expect(error.jobName).toBe('orders');
      expect(error.message).toContain(
        `shardingTotalCount = ${typeof shardingTotalCount === 'string' ? '"3"' : String(shardingTotalCount)}`,
      );
      expect(error.message).toContain('an integer from 1 to 2147483647');
      expect(error.message).toContain("job 'orders'");
    },
  );

  it('checks the type of every field', () => {
    const bad = {
      jobName: 'orders',
      shardingTotalCount: 1,
      cron: 5,
      timeZone: 8,
      shardingItemParameters: 0,
      jobParameter: null,
      monitorExecution: 'true',
      failover: 1,
      misfire: 'yes',
      maxTimeDiffSeconds: 1.5,
      reconcileIntervalMinutes: '10',
      jobShardingStrategyType: 1,
      jobExecutorThreadPoolSizeProviderType: true,
      jobErrorHandlerType: [],
      jobListenerTypes: 'LOG',
      extraConfigurations: {},
      description: 1,
      props: [],
      disabled: 'false',
      overwrite: 0,
      label: 1,
      staticSharding: null,
    };
    const error = configurationError(() => resolveJobConfiguration(bad as unknown as JobConfiguration));
    expect(error.issues.map((issue) => issue.field)).toEqual(
      Object.keys(bad).filter((key) => key !== 'jobName' && key !== 'shardingTotalCount'),
    );
    expect(error.issues.find((issue) => issue.field === 'misfire')!.message).toBe(
      'misfire = "yes" is invalid: expected true or false',
    );
    expect(error.issues.find((issue) => issue.field === 'maxTimeDiffSeconds')!.message).toMatch(
      /^maxTimeDiffSeconds = 1\.5 is invalid: expected an integer/,
    );
  });

  it('names the offending entry of props and jobListenerTypes', () => {
    const error = configurationError(() =>
      resolveJobConfiguration({
        ...minimal,
        props: { ok: 'yes', 'script.command.line': 42 as unknown as string },
        jobListenerTypes: ['a', 7 as unknown as string],
      }),
    );
    expect(error.issues).toEqual([
      { field: 'jobListenerTypes[1]', message: 'jobListenerTypes[1] = 7 is invalid: expected a string' },
      {
        field: 'props.script.command.line',
        message: 'props.script.command.line = 42 is invalid: expected a string',
      },
    ]);
  });

  it('rejects failover without monitorExecution, naming both fields', () => {
    const error = configurationError(() =>
      resolveJobConfiguration({ ...minimal, failover: true, monitorExecution: false }),
    );
    expect(error.field).toBe('failover');
    expect(error.message).toMatch(/failover = true requires monitorExecution = true/);
    expect(resolveJobConfiguration({ ...minimal, failover: true }).monitorExecution).toBe(true);
    expect(resolveJobConfiguration({ ...minimal, failover: false, monitorExecution: false }).failover).toBe(
      false,
    );
  });

  it('rejects unknown keys, naming them and the closest known key', () => {
    const error = configurationError(() =>
      resolveJobConfiguration({ ...minimal, shardingTotalCont: 3, zz: 1 } as unknown as JobConfiguration),
    );
    expect(error.issues.map((issue) => issue.field)).toEqual(['shardingTotalCont', 'zz']);
    expect(error.issues[0]!.message).toMatch(
      /^shardingTotalCont is not a job configuration key \(did you mean 'shardingTotalCount'\?\); accepted keys: jobName, cron/,
    );
    expect(error.issues[1]!.message).not.toMatch(/did you mean/);
  });

  it('rejects a non-object with field ""', () => {
    for (const value of [null, 'orders', 3, undefined]) {
      const error = configurationError(() => resolveJobConfiguration(value as unknown as JobConfiguration));
      expect(error.field).toBe('');
      expect(error.message).toMatch(/must be an object/);
    }
  });

  it('reports every problem at once, in field order', () => {
    const error = configurationError(() =>
      resolveJobConfiguration({
        jobName: 'orders',
        shardingTotalCount: 2,
        shardingItemParameters: '0=a,5=b,x=c',
        failover: true,
        monitorExecution: false,
        props: { a: 1 as unknown as string },
        tpyo: true,
      } as unknown as JobConfiguration),
    );
    expect(error.issues.map((issue) => issue.field)).toEqual([
      'shardingItemParameters',
      'shardingItemParameters',
      'failover',
      'props.a',
      'tpyo',
    ]);
    expect(error.field).toBe('shardingItemParameters');
    expect(error.message).toMatch(/^Invalid configuration of job 'orders': 5 problems: /);
    for (const issue of error.issues) expect(error.message).toContain(issue.message);
  });

  it('validates shardingItemParameters against shardingTotalCount', () => {
    expect(
      resolveJobConfiguration({ ...minimal, shardingItemParameters: '0=A,1=B,2=C' }).shardingItemParameters,
    ).toBe('0=A,1=B,2=C');
    const error = configurationError(() =>
      resolveJobConfiguration({ ...minimal, shardingItemParameters: '3=D' }),
    );
    expect(error.field).toBe('shardingItemParameters');
    expect(error.message).toContain('"3=D"');
    expect(error.message).toContain('item 3 is outside the sharding items 0..2');
  });
});

describe('parseShardingItemParameters', () => {
  it('parses item=parameter pairs with whitespace trimmed', () => {
    expect(parseShardingItemParameters('0=Beijing, 1 = Shanghai ,2=Guangzhou', 3)).toEqual(
      new Map([
        [0, 'Beijing'],
        [1, 'Shanghai'],
        [2, 'Guangzhou'],
      ]),
    );
  });

  it('returns an empty map for an empty string and leaves items without a pair out', () => {
    expect(parseShardingItemParameters('', 3)).toEqual(new Map());
    expect(parseShardingItemParameters('2=x', 3)).toEqual(new Map([[2, 'x']]));
  });

  it('accepts what Integer.parseInt accepts as the item, and a trailing comma', () => {
    expect(parseShardingItemParameters('+1=a,02=b,', 3)).toEqual(
      new Map([
        [1, 'a'],
        [2, 'b'],
      ]),
    );
  });

  it.each([
    ['0=', /pair "0=" has no parameter/],
    ['0 = ', /pair "0 =" has no parameter/],
    ['0', /pair "0" must be exactly one/],
    ['0=A=B', /pair "0=A=B" must be exactly one/],
    ['0=A=', /pair "0=A=" must be exactly one/],
    [',0=A', /pair "" must be exactly one/],
    ['0=A,,1=B', /pair "" must be exactly one/],
    ['=A', /item "" in pair "=A" is not an integer/],
    ['x=A', /item "x" in pair "x=A" is not an integer/],
    ['1.5=A', /item "1.5" .* is not an integer/],
    ['3=A', /item 3 is outside the sharding items 0..2/],
    ['-1=A', /item -1 is outside the sharding items 0..2/],
    ['0=A,0=B', /item 0 is given more than once/],
  ])('rejects %j', (text, reason) => {
    const error = configurationError(() => parseShardingItemParameters(text, 3));
    expect(error.field).toBe('shardingItemParameters');
    expect(error.message).toMatch(reason);
    expect(error.message).toContain(`shardingItemParameters = ${JSON.stringify(text)}`);
    expect(error.message).toContain("expected 'item=parameter' pairs joined by ',' with items 0..2");
  });

  it('reports every bad pair', () => {
    const error = configurationError(() => parseShardingItemParameters('0=a,x=b,9=c,0=d', 3));
    expect(error.issues).toHaveLength(3);
  });

  it('rejects a bad total count with a TypeError', () => {
    expect(() => parseShardingItemParameters('0=a', 0)).toThrow(TypeError);
    expect(() => parseShardingItemParameters('0=a', 1.5)).toThrow(TypeError);
    expect(() => parseShardingItemParameters(3 as unknown as string, 1)).toThrow(TypeError);
  });
});

describe('validateJobConfiguration: every problem, once', () => {
  it('reports a bad cron next to a structural error, each once, in field order', () => {
    const error = configurationError(() =>
      validateJobConfiguration({
        jobName: 'orders',
        cron: '0 0 25 * * ?',
        shardingTotalCount: -1,
        failover: true,
        monitorExecution: false,
      }),
    );
    expect(error.issues.map((issue) => issue.field)).toEqual(['cron', 'shardingTotalCount', 'failover']);
    expect(error.issues[0]!.message).toMatch(/hours/);
    expect(error.message).toMatch(/^Invalid configuration of job 'orders': 3 problems: /);
  });

  it('reports a bad time zone and the expression problems behind it', () => {
    const error = configurationError(() =>
      validateJobConfiguration({
        jobName: 'orders',
        cron: '0 0 25 * * ?',
        timeZone: 'Mars/Base',
        shardingTotalCount: 1,
      }),
    );
    expect(error.issues.map((issue) => issue.field)).toEqual(['cron', 'timeZone']);
  });

  it('accepts a valid configuration, scheduled or one-off, and applies the defaults', () => {
    expect(
      validateJobConfiguration({ jobName: 'orders', cron: '0/5 * * * * ?', shardingTotalCount: 2 }),
    ).toEqual(resolveJobConfiguration({ jobName: 'orders', cron: '0/5 * * * * ?', shardingTotalCount: 2 }));
    expect(validateJobConfiguration({ jobName: 'once', shardingTotalCount: 1 }).cron).toBe('');
  });

  it('validates registry YAML the same way, keeping the text', () => {
    const text = 'jobName: orders\ncron: 0 0 25 * * ?\nshardingTotalCount: -1\n';
    const error = configurationError(() => validateJobConfigurationYaml(text));
    expect(error.issues.map((issue) => issue.field)).toEqual(['cron', 'shardingTotalCount']);
    expect(error.source).toBe(text);
  });
});
