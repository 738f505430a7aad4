import { describe, expect, it } from 'vitest';
import {
  assertRegistryPath,
  isWithinRegistryPath,
  joinRegistryPath,
  parentRegistryPath,
  registryPathName,
  sortChildrenDescending,
} from '../src/index.js';

describe('registry paths', () => {
  it.each(['', 'a', 'a/b', '/a/', '//a', '/a//b', '/a/./b', '/a/../b'])('rejects %j naming it', (path) => {
    expect(() => assertRegistryPath(path)).toThrow(TypeError);
    expect(() => assertRegistryPath(path)).toThrow(path === '' ? /''/ : path);
  });

  it('accepts the root and well-formed paths', () => {
    expect(() => assertRegistryPath('/')).not.toThrow();
    expect(() => assertRegistryPath('/', false)).toThrow(/root/);
    expect(() => assertRegistryPath('/orders/sharding/0/instance')).not.toThrow();
  });

  it('joins, splits and compares by whole segments', () => {
    expect(joinRegistryPath('/', 'a', 1)).toBe('/a/1');
    expect(joinRegistryPath('/a')).toBe('/a');
    expect(() => joinRegistryPath('/a', 'b/c')).toThrow(TypeError);
    expect(parentRegistryPath('/a/b')).toBe('/a');
    expect(parentRegistryPath('/a')).toBe('/');
    expect(registryPathName('/a/b')).toBe('b');
    expect(isWithinRegistryPath('/a/b/c', '/a/b')).toBe(true);
    expect(isWithinRegistryPath('/a/bc', '/a/b')).toBe(false);
    expect(isWithinRegistryPath('/a/b', '/')).toBe(true);
  });

  it('orders children like ElasticJob: descending by UTF-16 code units', () => {
    expect(sortChildrenDescending(['0', '1', '10', '2', '8', '9'])).toEqual(['9', '8', '2', '10', '1', '0']);
  });
});
