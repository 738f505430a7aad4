import { describe, expect, it } from 'vitest';
import { RegistryPathIndex } from '../src/registry/registry-path-index.js';

describe('RegistryPathIndex', () => {
  it('finds the values registered at a path and at its ancestors, by whole segments', () => {
    const index = new RegistryPathIndex<string>();
    index.add('/ns/job', 'job');
    index.add('/ns/jobs', 'jobs');
    index.add('/ns', 'namespace');
    index.add('/', 'everything');
    index.add('/ns/job/sharding/0', 'item 0');

    expect(index.covering('/ns/job/sharding/0/running')).toEqual([
      'job',
      'namespace',
      'everything',
      'item 0',
    ]);
    expect(index.covering('/ns/jobs/config')).toEqual(['jobs', 'namespace', 'everything']);
    expect(index.covering('/ns/jo')).toEqual(['namespace', 'everything']);
    expect(index.covering('/other')).toEqual(['everything']);
    expect(index.covering('/')).toEqual(['everything']);
  });

  it('yields lookups and iteration in the order values were added, whatever their roots', () => {
    const index = new RegistryPathIndex<string>();
    index.add('/a/b', 'first');
    index.add('/a', 'second');
    index.add('/a/b', 'third');
    expect(index.covering('/a/b/c')).toEqual(['first', 'second', 'third']);
    expect([...index]).toEqual(['first', 'second', 'third']);
  });

  it('forgets deleted values and keeps the first root of a value added twice', () => {
    const index = new RegistryPathIndex<string>();
    index.add('/a', 'x');
    index.add('/b', 'x');
    index.add('/a', 'y');
    expect(index.size).toBe(2);
    expect(index.covering('/b/c')).toEqual([]);
    index.delete('x');
    index.delete('absent');
    expect(index.covering('/a/c')).toEqual(['y']);
    expect(index.size).toBe(1);
    index.clear();
    expect(index.covering('/a/c')).toEqual([]);
    expect([...index]).toEqual([]);
  });

  it('finds roots of one length apart, and keeps finding the others after a length has no root left', () => {
    const index = new RegistryPathIndex<string>();
    index.add('/ns/job', 'job');
    index.add('/ns/jab', 'jab');
    index.add('/ns/jobs', 'jobs');
    expect(index.covering('/ns/jab/x')).toEqual(['jab']);
    index.delete('job');
    index.delete('jab');
    expect(index.covering('/ns/job/x')).toEqual([]);
    expect(index.covering('/ns/jobs/x')).toEqual(['jobs']);
    index.add('/ns/job', 'job again');
    expect(index.covering('/ns/job/x')).toEqual(['job again']);
  });
});
