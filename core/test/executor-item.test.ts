import { describe, expect, it, vi } from 'vitest';
import type { ResolvedJobConfiguration } from '../src/config/job-configuration.js';
import { JobConfigurationError } from '../src/config/job-configuration-error.js';
import {
  DataflowJobItemExecutor,
  registerTypedJobItemExecutor,
  resolveJobItemExecutor,
  SimpleJobItemExecutor,
  shardingContextToAsciiJson,
  shardingContextToJson,
  typedJobTypes,
} from '../src/executor/index.js';
import type { DataflowJob, JobRuntime } from '../src/job/elastic-job.js';
import type { ShardingContext } from '../src/job/sharding-context.js';
import { jobConfigurationWith } from './support/job-fixtures.js';

function configOf(props: Record<string, string> = {}, jobName = 'orders'): ResolvedJobConfiguration {
  return jobConfigurationWith(props, jobName);
}

function contextOf(signal: AbortSignal = new AbortController().signal, item = 1): ShardingContext {
  return {
    fencingToken: 1,
    jobName: 'orders',
    taskId: 'orders@-@0,1@-@READY@-@10.0.0.1@-@42',
    shardingTotalCount: 3,
    jobParameter: 'p',
    shardingItem: item,
    shardingParameter: 'Shanghai',
    signal,
  };
}

function runtimeOf(
  props: Record<string, string> = {},
  needSharding: () => boolean = () => false,
): JobRuntime {
  return { configuration: configOf(props), isNeedSharding: async () => needSharding() };
}

describe('SimpleJobItemExecutor', () => {
  it('calls execute with the context and propagates failures', async () => {
    const execute = vi.fn(async (_context: ShardingContext) => {});
    const context = contextOf();
    await new SimpleJobItemExecutor({ execute }).process(context);
    expect(execute).toHaveBeenCalledWith(context);

    const failing = new SimpleJobItemExecutor({
      execute: () => {
        throw new Error('boom');
      },
    });
    await expect(failing.process(context)).rejects.toThrow('boom');
  });

  it('hands on the promise execute returned, and settles one of its own for a synchronous execute', async () => {
    const context = contextOf();
    const pending = Promise.reject(new Error('late boom'));
    const asyncJob = new SimpleJobItemExecutor({ execute: () => pending });
    expect(asyncJob.process(context)).toBe(pending);
    await expect(pending).rejects.toThrow('late boom');
    let ran = 0;
    const syncJob = new SimpleJobItemExecutor({
      execute: () => {
        ran++;
      },
    });
    const settled = syncJob.process(context);
    expect(ran).toBe(1);
    expect(settled).toBeInstanceOf(Promise);
    await expect(settled).resolves.toBeUndefined();
  });
});

describe('DataflowJobItemExecutor', () => {
  function batchesJob(
    batches: (readonly number[] | null | undefined)[],
    onProcess?: (data: readonly number[]) => void,
  ) {
    const processed: (readonly number[])[] = [];
    let fetches = 0;
    const job: DataflowJob<number> = {
      fetchData: () => batches[fetches++] ?? [],
      processData: (_context, data) => {
        processed.push(data);
        onProcess?.(data);
      },
    };
    return { job, processed, fetchCount: () => fetches };
  }

  it('one-off mode fetches once and processes a non-empty batch', async () => {
    const { job, processed, fetchCount } = batchesJob([[1, 2], [3]]);
    await new DataflowJobItemExecutor(job).process(contextOf(), runtimeOf());
    expect(fetchCount()).toBe(1);
    expect(processed).toEqual([[1, 2]]);
  });

  it.each([[[]], [null], [undefined]])('one-off mode skips processData for %j', async (batch) => {
    const { job, processed, fetchCount } = batchesJob([batch]);
    await new DataflowJobItemExecutor(job).process(contextOf(), runtimeOf({ 'streaming.process': 'false' }));
    expect(fetchCount()).toBe(1);
    expect(processed).toEqual([]);
  });

  it('streaming mode loops until a fetch returns nothing', async () => {
    const { job, processed, fetchCount } = batchesJob([[1], [2], [3], null, [4]]);
    await new DataflowJobItemExecutor(job).process(contextOf(), runtimeOf({ 'streaming.process': 'TRUE' }));
    expect(processed).toEqual([[1], [2], [3]]);
    expect(fetchCount()).toBe(4);
  });

  it('streaming mode stops after the batch during which resharding was flagged', async () => {
    let needSharding = false;
    const { job, processed } = batchesJob([[1], [2], [3], [4]], (data) => {
      if (data[0] === 2) needSharding = true;
    });
    await new DataflowJobItemExecutor(job).process(
      contextOf(),
      runtimeOf({ 'streaming.process': 'true' }, () => needSharding),
    );
    expect(processed).toEqual([[1], [2]]);
  });

  it('streaming mode stops when the signal aborts', async () => {
    const controller = new AbortController();
    const { job, processed, fetchCount } = batchesJob([[1], [2], [3], [4]], (data) => {
      if (data[0] === 3) controller.abort();
    });
    await new DataflowJobItemExecutor(job).process(
      contextOf(controller.signal),
      runtimeOf({ 'streaming.process': 'true' }),
    );
    expect(processed).toEqual([[1], [2], [3]]);
    expect(fetchCount()).toBe(3);
  });

  it('streaming mode reads the prop of the current run and propagates job errors', async () => {
    const job: DataflowJob<number> = {
      fetchData: () => [1],
      processData: () => {
        throw new Error('processing failed');
      },
    };
    await expect(
      new DataflowJobItemExecutor(job).process(contextOf(), runtimeOf({ 'streaming.process': 'true' })),
    ).rejects.toThrow('processing failed');
    await expect(
      new DataflowJobItemExecutor(job).process(contextOf(), runtimeOf({ 'streaming.process': 'yes' })),
    ).rejects.toThrow(/streaming\.process/);
  });
});

describe('resolveJobItemExecutor', () => {
  class OrderExportJob {
    execute(): void {}
  }
  class OrderFeedJob {
    fetchData(): number[] {
      return [];
    }
    processData(): void {}
  }

  it('picks the executor by shape and names the job class', () => {
    const config = configOf();
    expect(resolveJobItemExecutor({ execute: () => {} }, config)).toMatchObject({
      jobClassName: 'SimpleJob',
      executor: expect.any(SimpleJobItemExecutor),
    });
    expect(resolveJobItemExecutor(new OrderExportJob(), config).jobClassName).toBe('OrderExportJob');
    expect(resolveJobItemExecutor({ fetchData: () => [], processData: () => {} }, config)).toMatchObject({
      jobClassName: 'DataflowJob',
      executor: expect.any(DataflowJobItemExecutor),
    });
    expect(resolveJobItemExecutor(new OrderFeedJob(), config).jobClassName).toBe('OrderFeedJob');
    expect(
      resolveJobItemExecutor(Object.create(null, { execute: { value: () => {} } }), config).jobClassName,
    ).toBe('SimpleJob');
    expect(
      resolveJobItemExecutor('SCRIPT', configOf({ 'script.command.line': 'echo hi' })).jobClassName,
    ).toBe('SCRIPT');
    expect(
      resolveJobItemExecutor('HTTP', configOf({ 'http.uri': 'http://127.0.0.1/', 'http.method': 'get' }))
        .jobClassName,
    ).toBe('HTTP');
  });

  it.each([
    ['SCRIPT', {}, 'script.command.line'],
    ['SCRIPT', { 'script.command.line': '   ' }, 'script.command.line'],
    ['HTTP', { 'http.method': 'GET' }, 'http.uri'],
    ['HTTP', { 'http.uri': 'ftp://host/x', 'http.method': 'GET' }, 'http.uri'],
    ['HTTP', { 'http.uri': 'http://host/x' }, 'http.method'],
    ['HTTP', { 'http.uri': 'http://host/x', 'http.method': 'FETCH' }, 'http.method'],
    [
      'HTTP',
      { 'http.uri': 'http://host/x', 'http.method': 'GET', 'http.read.timeout.milliseconds': '0' },
      'http.read.timeout.milliseconds',
    ],
    [
      'HTTP',
      { 'http.uri': 'http://host/x', 'http.method': 'GET', 'http.connect.timeout.milliseconds': '1.5' },
      'http.connect.timeout.milliseconds',
    ],
  ])('validates %s props at resolve time (%j → %s)', (type, props, field) => {
    const resolve = () => resolveJobItemExecutor(type, configOf(props, 'billing'));
    expect(resolve).toThrow(JobConfigurationError);
    expect(resolve).toThrow(
      new RegExp(
        `Invalid configuration of job 'billing': prop '${field.replaceAll('.', '\\.')}' .*the ${type} job type`,
      ),
    );
    try {
      resolve();
    } catch (error) {
      expect(error).toMatchObject({ field: `props.${field}`, jobName: 'billing' });
    }
  });

  it('validates streaming.process of dataflow jobs at resolve time', () => {
    expect(() =>
      resolveJobItemExecutor(
        { fetchData: () => [], processData: () => {} },
        configOf({ 'streaming.process': '1' }),
      ),
    ).toThrow(/orders.*streaming\.process.*'true' or 'false'/);
  });

  it('rejects an unknown type naming the accepted ones', () => {
    expect(() => resolveJobItemExecutor('SQL', configOf())).toThrow(
      "Invalid configuration of job 'orders': typed job type 'SQL' is not registered; accepted: SCRIPT, HTTP",
    );
  });

  it.each([
    [{}, 'an object with keys []'],
    [{ run: () => {} }, 'an object with keys [run]'],
    [{ fetchData: () => [] }, 'an object with keys [fetchData]'],
    [null, 'null'],
    [42, 'number 42'],
  ])('rejects %j saying what was expected', (job, got) => {
    const resolve = () => resolveJobItemExecutor(job as never, configOf());
    expect(resolve).toThrow(TypeError);
    expect(resolve).toThrow(/expected a SimpleJob \(object with execute\(\)\), a DataflowJob/);
    expect(resolve).toThrow(got);
  });

  it('rejects an object implementing both job interfaces', () => {
    expect(() =>
      resolveJobItemExecutor({ execute: () => {}, fetchData: () => [], processData: () => {} }, configOf()),
    ).toThrow(/both SimpleJob.*DataflowJob/);
  });

  it('registers and unregisters typed jobs', async () => {
    const processed: number[] = [];
    const unregister = registerTypedJobItemExecutor('RECORD', (config) => {
      if (config.props.table === undefined) {
        throw new JobConfigurationError('props.table', 'table is required', { jobName: config.jobName });
      }
      return { process: async (context) => void processed.push(context.shardingItem) };
    });
    try {
      expect(typedJobTypes()).toEqual(['SCRIPT', 'HTTP', 'RECORD']);
      expect(() => registerTypedJobItemExecutor('RECORD', () => ({ process: async () => {} }))).toThrow(
        /'RECORD' is already registered/,
      );
      expect(() => registerTypedJobItemExecutor('HTTP', () => ({ process: async () => {} }))).toThrow(
        TypeError,
      );
      expect(() => registerTypedJobItemExecutor('', () => ({ process: async () => {} }))).toThrow(TypeError);
      expect(() => resolveJobItemExecutor('RECORD', configOf())).toThrow('table is required');
      const { executor, jobClassName } = resolveJobItemExecutor('RECORD', configOf({ table: 't' }));
      expect(jobClassName).toBe('RECORD');
      await executor.process(contextOf(undefined, 2), runtimeOf());
      expect(processed).toEqual([2]);
    } finally {
      unregister();
    }
    expect(typedJobTypes()).toEqual(['SCRIPT', 'HTTP']);
  });
});

describe('sharding context JSON', () => {
  it('keeps ElasticJob field order and omits an undefined parameter and the signal', () => {
    expect(shardingContextToJson(contextOf())).toBe(
      '{"jobName":"orders","taskId":"orders@-@0,1@-@READY@-@10.0.0.1@-@42","shardingTotalCount":3,' +
        '"jobParameter":"p","shardingItem":1,"shardingParameter":"Shanghai"}',
    );
    const json = shardingContextToJson({ ...contextOf(), shardingParameter: undefined });
    expect(JSON.parse(json)).toEqual({
      jobName: 'orders',
      taskId: 'orders@-@0,1@-@READY@-@10.0.0.1@-@42',
      shardingTotalCount: 3,
      jobParameter: 'p',
      shardingItem: 1,
    });
  });

  it('escapes non-ASCII for headers without changing the parsed value', () => {
    const context = { ...contextOf(), jobParameter: '北京 ünïcode 🚀', shardingParameter: 'x\u007fy' };
    const ascii = shardingContextToAsciiJson(context);
    expect(ascii).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(ascii)).toEqual(JSON.parse(shardingContextToJson(context)));
  });
});
