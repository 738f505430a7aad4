import { describe, expect, it } from 'vitest';
import { RunShardingContexts, shardingContextOf } from '../src/job/sharding-context.js';

/** A run whose signal is made on first read, and counts the reads. */
function lazyRun(): { readonly signal: AbortSignal; reads: number; readonly controller: AbortController } {
  const controller = new AbortController();
  return {
    controller,
    reads: 0,
    get signal() {
      this.reads++;
      return controller.signal;
    },
  };
}

const FIELDS = {
  taskId: 'orders@-@0,2@-@READY@-@10.0.0.7@-@4242',
  jobName: 'orders',
  shardingTotalCount: 3,
  jobParameter: 'p',
  shardingItemParameters: new Map<number, string | undefined>([
    [0, 'a'],
    [2, undefined],
  ]),
};

describe('the contexts a run hands to user code', () => {
  it('carries the run fields and reads the signal from the run only when asked', () => {
    const run = lazyRun();
    const contexts = new RunShardingContexts({ ...FIELDS, scheduledFireTimeMs: 5000 }, run);
    const context = shardingContextOf(contexts, 0, 17);
    expect(run.reads).toBe(0);
    expect({ ...context }).toStrictEqual({
      jobName: 'orders',
      taskId: FIELDS.taskId,
      shardingTotalCount: 3,
      jobParameter: 'p',
      shardingItem: 0,
      shardingParameter: 'a',
      fencingToken: 17,
      scheduledFireTimeMs: 5000,
    });
    expect(run.reads).toBe(0); // a spread copy does not carry the signal, nor make it
    expect(context.signal).toBe(run.controller.signal);
    expect(contexts.signal).toBe(run.controller.signal);
    expect(run.reads).toBe(2);
    run.controller.abort('stop');
    expect(context.signal.aborted).toBe(true);
  });

  it('leaves out the scheduled fire time of a run that serves none, and defaults the token to 0', () => {
    const contexts = new RunShardingContexts({ ...FIELDS, scheduledFireTimeMs: undefined }, lazyRun());
    const context = shardingContextOf(contexts, 2);
    expect('scheduledFireTimeMs' in contexts).toBe(false);
    expect('scheduledFireTimeMs' in context).toBe(false);
    expect(context).toMatchObject({ shardingItem: 2, shardingParameter: undefined, fencingToken: 0 });
    expect(contexts.shardingItemParameters).toBe(FIELDS.shardingItemParameters);
  });
});
