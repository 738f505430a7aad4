/**
 * The admission's record of this instance's own writes: it is planned on only while the watch
 * cache has not shown them, and yields to the cache as soon as the cache shows them or anything
 * written after them.
 */
import { describe, expect, it } from 'vitest';
import { OwnItemWrites } from '../src/kernel/execution/own-item-writes.js';

const ME = '10.0.0.1@-@1';
const OTHER = '10.0.0.2@-@1';

describe('OwnItemWrites', () => {
  it('passes the cache through when nothing is recorded', () => {
    const writes = new OwnItemWrites();
    expect(writes.resolve(0, { running: OTHER, fencing: '3' }, ME)).toEqual({ running: OTHER, fencing: '3' });
  });

  it('plans on an admission the cache has not shown yet', () => {
    const writes = new OwnItemWrites();
    writes.admitted(0, { token: 4 }, ME);
    expect(writes.resolve(0, { fencing: '3' }, ME)).toEqual({ running: ME, fencing: '4' });
    expect(writes.resolve(0, {}, ME)).toEqual({ running: ME, fencing: '4' });
  });

  it('plans on the whole fencing value it wrote, the fire it served included', () => {
    const writes = new OwnItemWrites();
    writes.admitted(0, { token: 4, lastFireTimeMs: 1_000 }, ME);
    expect(writes.resolve(0, { fencing: '3@0' }, ME)).toEqual({ running: ME, fencing: '4@1000' });
    expect(writes.resolve(0, { running: ME, fencing: '4@1000' }, ME)).toEqual({
      running: ME,
      fencing: '4@1000',
    });
  });

  it('plans on a deletion of its own mark the cache has not shown yet', () => {
    const writes = new OwnItemWrites();
    writes.admitted(0, { token: 4 }, ME);
    writes.cleared(0, { token: 4 });
    // The cache shows the admission (token 4, mark ours) but not the deletion.
    expect(writes.resolve(0, { running: ME, fencing: '4' }, ME)).toEqual({ fencing: '4' });
    // Still behind: before the admission.
    expect(writes.resolve(0, { fencing: '3' }, ME)).toEqual({ fencing: '4' });
  });

  it('yields to the cache once it shows the write, and forgets the record', () => {
    const writes = new OwnItemWrites();
    writes.admitted(0, { token: 4 }, ME);
    writes.cleared(0, { token: 4 });
    expect(writes.resolve(0, { fencing: '4' }, ME)).toEqual({ fencing: '4' });
    // Forgotten: a stale-looking cache is taken as it is from now on.
    expect(writes.resolve(0, { running: ME, fencing: '4' }, ME)).toEqual({ running: ME, fencing: '4' });
  });

  it('yields to a cache that shows a later write of another instance', () => {
    const writes = new OwnItemWrites();
    writes.admitted(0, { token: 4 }, ME);
    writes.cleared(0, { token: 4 });
    expect(writes.resolve(0, { running: OTHER, fencing: '5' }, ME)).toEqual({ running: OTHER, fencing: '5' });
    writes.admitted(1, { token: 4 }, ME);
    expect(writes.resolve(1, { running: OTHER, fencing: '4' }, ME)).toEqual({ running: OTHER, fencing: '4' });
  });

  it('keeps a later admission over the clear of an earlier run, and forgets on request', () => {
    const writes = new OwnItemWrites();
    writes.admitted(0, { token: 5 }, ME);
    writes.cleared(0, { token: 4 }); // a retried clear of the previous run
    expect(writes.resolve(0, { fencing: '3' }, ME)).toEqual({ running: ME, fencing: '5' });
    writes.forget(0);
    expect(writes.resolve(0, { fencing: '3' }, ME)).toEqual({ fencing: '3' });
  });
});
