import { describe, expect, it } from 'vitest';
import { JobNodePath } from '../src/kernel/job-node-path.js';

describe('JobNodePath', () => {
  it('builds the same paths whether kept or not (items past the kept range, any instance id)', () => {
    const paths = new JobNodePath('orders');
    for (const item of [0, 1, 1023, 1024, 5000]) {
      for (const node of ['instance', 'running', 'fencing'] as const) {
        expect(paths.shardingNode(item, node)).toBe(`/orders/sharding/${item}/${node}`);
        expect(paths.shardingNode(item, node)).toBe(`/orders/sharding/${item}/${node}`);
      }
    }
    for (let i = 0; i < 1100; i++)
      expect(paths.instance(`10.0.0.1@-@${i}`)).toBe(`/orders/instances/10.0.0.1@-@${i}`);
    expect(paths.instance('10.0.0.1@-@0')).toBe('/orders/instances/10.0.0.1@-@0');
    expect(paths.server('10.0.0.1')).toBe('/orders/servers/10.0.0.1');
    expect(paths.instances).toBe('/orders/instances');
    expect(paths.shardingNecessary).toBe('/orders/leader/sharding/necessary');
    expect(paths.relative('/orders/sharding/0/running')).toBe('sharding/0/running');
    expect(paths.relative('/orders')).toBe('');
    expect(paths.relative('/ordersx/config')).toBeUndefined();
  });
});
