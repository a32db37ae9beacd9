import { Registry } from 'prom-client';
import type { Metric } from 'prom-client';
import { BucketHistogram } from '../../src/metrics/bucket-histogram';

describe('BucketHistogram', () => {
  it('renders cumulative buckets, +Inf, sum and count in the Prometheus text format', async () => {
    const h = new BucketHistogram('x_seconds', 'Some durations.', [0.01, 0.1, 1]);
    for (const v of [0.001, 0.01, 0.05, 0.5, 3, Number.NaN]) h.observe(v);
    const registry = new Registry();
    registry.registerMetric(h as unknown as Metric);
    const text = await registry.metrics();
    expect(text).toContain('# HELP x_seconds Some durations.\n# TYPE x_seconds histogram\n');
    expect(text).toContain('x_seconds_bucket{le="0.01"} 2\n');
    expect(text).toContain('x_seconds_bucket{le="0.1"} 3\n');
    expect(text).toContain('x_seconds_bucket{le="1"} 4\n');
    expect(text).toContain('x_seconds_bucket{le="+Inf"} 5\n');
    expect(text).toContain('x_seconds_count 5\n');
    const sum = Number(/x_seconds_sum (\S+)/.exec(text)![1]);
    expect(sum).toBeCloseTo(3.561, 9);
  });

  it('starts at zero, shows zeros before any observation, and resets', () => {
    const h = new BucketHistogram('y', 'help', [1]);
    expect(h.get().values.map((v) => v.value)).toEqual([0, 0, 0, 0]);
    h.observe(2);
    expect(h.get().values.find((v) => v.metricName === 'y_count')!.value).toBe(1);
    h.reset();
    expect(h.get().values.map((v) => v.value)).toEqual([0, 0, 0, 0]);
  });
});
