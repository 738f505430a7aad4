import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  createJobInstance,
  defaultInstanceId,
  detectLocalIp,
  parseJobInstanceYaml,
  toJobInstanceYaml,
} from '../src/index.js';

function address(address: string, family: 'IPv4' | 'IPv6' = 'IPv4', internal = false): NetworkInterfaceInfo {
  const common = { address, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

const interfaces = () => ({
  lo: [address('127.0.0.1', 'IPv4', true), address('::1', 'IPv6', true)],
  docker0: [address('172.17.0.1')],
  eth0: [address('fe80::1', 'IPv6'), address('10.0.0.5')],
  eth1: [address('192.168.1.20'), address('2001:db8::20', 'IPv6')],
});

describe('job instance id', () => {
  it('defaults to {ip}@-@{pid}', () => {
    expect(defaultInstanceId('10.0.0.1', 4711)).toBe('10.0.0.1@-@4711');
    expect(defaultInstanceId('10.0.0.1')).toBe(`10.0.0.1@-@${process.pid}`);
  });

  it('rejects bad ips and pids', () => {
    expect(() => defaultInstanceId('', 1)).toThrow(TypeError);
    expect(() => defaultInstanceId('a/b', 1)).toThrow(/ip must be a non-empty string without '\/'/);
    expect(() => defaultInstanceId('10.0.0.1', -1)).toThrow(/pid/);
    expect(() => defaultInstanceId('10.0.0.1', 1.5)).toThrow(/pid/);
  });

  it('creates validated, frozen instances', () => {
    expect(createJobInstance('10.0.0.1@-@4711')).toEqual({
      jobInstanceId: '10.0.0.1@-@4711',
      serverIp: '10.0.0.1',
    });
    expect(createJobInstance('worker-a', '10.0.0.2', 'blue')).toEqual({
      jobInstanceId: 'worker-a',
      serverIp: '10.0.0.2',
      labels: 'blue',
    });
    expect(createJobInstance('worker-a')).toEqual({ jobInstanceId: 'worker-a', serverIp: 'worker-a' });
    expect(Object.isFrozen(createJobInstance('x', '1.1.1.1'))).toBe(true);
    for (const bad of ['', 'a/b', '/', '.', '..']) {
      expect(() => createJobInstance(bad, '10.0.0.1')).toThrow(TypeError);
    }
    expect(() => createJobInstance('x', '')).toThrow(/serverIp/);
  });
});

describe('job instance YAML', () => {
  it("writes ElasticJob's shape: alphabetical keys, labels omitted when absent", () => {
    expect(toJobInstanceYaml({ jobInstanceId: '10.0.0.1@-@4711', serverIp: '10.0.0.1' })).toBe(
      'jobInstanceId: 10.0.0.1@-@4711\nserverIp: 10.0.0.1\n',
    );
    expect(
      toJobInstanceYaml({ jobInstanceId: '10.0.0.1@-@4711', serverIp: '10.0.0.1', labels: 'blue' }),
    ).toBe('jobInstanceId: 10.0.0.1@-@4711\nlabels: blue\nserverIp: 10.0.0.1\n');
  });

  it('round-trips, including IPv6 addresses and values YAML would otherwise retype', () => {
    for (const instance of [
      { jobInstanceId: '10.0.0.1@-@4711', serverIp: '10.0.0.1' },
      { jobInstanceId: '::1@-@7', serverIp: '::1' },
      { jobInstanceId: '2001:db8::1@-@7', serverIp: '2001:db8::1', labels: 'yes' },
      { jobInstanceId: '123', serverIp: '1:30', labels: '' },
      { jobInstanceId: '@x #y', serverIp: '* star' },
    ]) {
      expect(parseJobInstanceYaml(toJobInstanceYaml(instance))).toEqual(instance);
    }
  });

  it('reads what a Java peer writes and ignores unknown keys', () => {
    expect(parseJobInstanceYaml('jobInstanceId: 10.0.0.1@-@4711\nserverIp: 10.0.0.1\n')).toEqual({
      jobInstanceId: '10.0.0.1@-@4711',
      serverIp: '10.0.0.1',
    });
    expect(parseJobInstanceYaml('jobInstanceId: a\nlabels: 1.0\nserverIp: 10.0.0.1\nfuture: x\n')).toEqual({
      jobInstanceId: 'a',
      serverIp: '10.0.0.1',
      labels: '1.0',
    });
  });

  it.each([
    ['', /must be a map/],
    ['- a\n', /must be a map/],
    ['jobInstanceId: [\n', /malformed/],
    ['serverIp: 10.0.0.1\n', /jobInstanceId must be/],
    ['jobInstanceId: a/b\nserverIp: 10.0.0.1\n', /jobInstanceId must be/],
    ['jobInstanceId: a\n', /serverIp/],
  ])('rejects %j with a TypeError quoting the text', (text, reason) => {
    expect(() => parseJobInstanceYaml(text)).toThrow(TypeError);
    expect(() => parseJobInstanceYaml(text)).toThrow(reason);
    expect(() => parseJobInstanceYaml(text)).toThrow(JSON.stringify(text));
  });

  it('rejects invalid instances when writing', () => {
    expect(() => toJobInstanceYaml({ jobInstanceId: 'a/b', serverIp: '1.1.1.1' })).toThrow(TypeError);
  });
});

describe('detectLocalIp', () => {
  it('returns the first non-internal IPv4 address in interface order', () => {
    expect(detectLocalIp({ env: {}, networkInterfaces: interfaces })).toBe('172.17.0.1');
  });

  it('prefers an interface by prefix or regular expression', () => {
    expect(detectLocalIp({ env: {}, networkInterfaces: interfaces, preferredNetworkInterface: 'eth' })).toBe(
      '10.0.0.5',
    );
    expect(
      detectLocalIp({ env: {}, networkInterfaces: interfaces, preferredNetworkInterface: 'eth[1-9]' }),
    ).toBe('192.168.1.20');
    expect(
      detectLocalIp({
        env: { ELASTICJOB_PREFERRED_NETWORK_INTERFACE: 'eth1' },
        networkInterfaces: interfaces,
      }),
    ).toBe('192.168.1.20');
  });

  it('prefers an address by prefix or regular expression', () => {
    expect(
      detectLocalIp({ env: { ELASTICJOB_PREFERRED_NETWORK_IP: '192.168.' }, networkInterfaces: interfaces }),
    ).toBe('192.168.1.20');
    expect(
      detectLocalIp({ env: {}, networkInterfaces: interfaces, preferredNetworkIp: '10\\.0\\.\\d+\\.\\d+' }),
    ).toBe('10.0.0.5');
    expect(detectLocalIp({ env: {}, networkInterfaces: interfaces, preferredNetworkIp: '2001:' })).toBe(
      '2001:db8::20',
    );
  });

  it('ignores preferences that match nothing, and invalid regular expressions', () => {
    expect(detectLocalIp({ env: {}, networkInterfaces: interfaces, preferredNetworkInterface: 'wlan' })).toBe(
      '172.17.0.1',
    );
    expect(detectLocalIp({ env: {}, networkInterfaces: interfaces, preferredNetworkIp: '(' })).toBe(
      '172.17.0.1',
    );
  });

  it('uses a global IPv6 address when there is no IPv4 one, then falls back to 127.0.0.1', () => {
    expect(
      detectLocalIp({
        env: {},
        networkInterfaces: () => ({
          lo: [address('127.0.0.1', 'IPv4', true)],
          eth0: [address('fe80::1', 'IPv6'), address('2001:db8::5', 'IPv6')],
        }),
      }),
    ).toBe('2001:db8::5');
    expect(
      detectLocalIp({ env: {}, networkInterfaces: () => ({ lo: [address('127.0.0.1', 'IPv4', true)] }) }),
    ).toBe('127.0.0.1');
    expect(detectLocalIp({ env: {}, networkInterfaces: () => ({}) })).toBe('127.0.0.1');
  });

  it('works on the real host', () => {
    expect(detectLocalIp()).toMatch(/^[0-9a-f.:]+$/i);
  });
});
