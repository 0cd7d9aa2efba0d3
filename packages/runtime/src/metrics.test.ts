import { NightshiftError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('metrics', () => {
  it('returns the same metric for the same name, so two modules add to one series', async () => {
    const metrics = createMetrics({ defaultLabels: { service: 'test' } });
    const a = metrics.counter({ name: 'ns_jobs_total', help: 'jobs', labelNames: ['role'] });
    const b = metrics.counter({ name: 'ns_jobs_total', help: 'jobs', labelNames: ['role'] });
    expect(b).toBe(a);
    a.inc({ role: 'builder' });
    b.inc({ role: 'builder' }, 2);
    const text = await metrics.metrics();
    expect(text).toContain('ns_jobs_total{role="builder",service="test"} 3');
  });

  it('gauges and histograms are idempotent too', async () => {
    const metrics = createMetrics();
    expect(metrics.gauge({ name: 'ns_depth', help: 'd' })).toBe(
      metrics.gauge({ name: 'ns_depth', help: 'd' }),
    );
    const h = metrics.histogram({ name: 'ns_latency_seconds', help: 'l', buckets: [0.1, 1] });
    expect(metrics.histogram({ name: 'ns_latency_seconds', help: 'l' })).toBe(h);
    h.observe(0.5);
    expect(await metrics.metrics()).toContain('ns_latency_seconds_bucket{le="1"} 1');
    expect(metrics.contentType).toContain('text/plain');
  });

  it('refuses a same-named metric of another type or label set', () => {
    const metrics = createMetrics();
    metrics.counter({ name: 'ns_x', help: 'x', labelNames: ['a'] });
    expect(() => metrics.gauge({ name: 'ns_x', help: 'x', labelNames: ['a'] })).toThrow(NightshiftError);
    expect(() => metrics.counter({ name: 'ns_x', help: 'x', labelNames: ['b'] })).toThrow(/already exists/);
  });

  it('separate registries do not collide, and default metrics are opt-in', async () => {
    const one = createMetrics();
    const two = createMetrics({ collectDefaultMetrics: true, defaultMetricsPrefix: 'ns_' });
    one.counter({ name: 'ns_same', help: 's' });
    two.counter({ name: 'ns_same', help: 's' });
    expect(await one.metrics()).not.toContain('ns_process_cpu');
    expect(await two.metrics()).toContain('ns_process_cpu_user_seconds_total');
  });
});
