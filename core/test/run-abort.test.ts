import { describe, expect, it } from 'vitest';
import { RunAbort } from '../src/kernel/execution/run-abort.js';

describe('RunAbort', () => {
  it('aborts once, keeping the first reason', () => {
    const abort = new RunAbort();
    expect(abort.aborted).toBe(false);
    expect(abort.reason).toBeUndefined();
    const first = new Error('first');
    abort.abort(first);
    abort.abort(new Error('second'));
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(first);
  });

  it('a signal made before the abort is aborted with it, firing its listeners once', () => {
    const abort = new RunAbort();
    const signal = abort.signal;
    expect(abort.signal).toBe(signal);
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    expect(signal.aborted).toBe(false);
    const reason = new Error('shutdown');
    abort.abort(reason);
    abort.abort(new Error('again'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(fired).toBe(1);
  });

  it('a signal first read after the abort is already aborted, with the reason', () => {
    const abort = new RunAbort();
    const reason = new Error('session lost');
    abort.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });
  it('calls abort listeners once, at once when already aborted, and not after their removal', () => {
    const run = new RunAbort();
    const calls: string[] = [];
    run.onAbort(() => calls.push('first'));
    const remove = run.onAbort(() => calls.push('removed'));
    remove();
    run.abort('why');
    run.abort('again');
    run.onAbort(() => calls.push('late'));
    expect(calls).toEqual(['first', 'late']);
  });
});
