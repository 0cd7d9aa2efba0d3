// prom-client registry wrapper: getOrCreate metrics by name so several modules can share one metric safely.
import { NightshiftError } from '@nightshift/protocol';
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  Registry,
} from 'prom-client';

export interface MetricsOptions {
  /** Also export process metrics (CPU, memory, event-loop lag, GC). Default false: tests stay quiet. */
  collectDefaultMetrics?: boolean;
  /** Prefix of the default process metrics, e.g. `nightshift_`. */
  defaultMetricsPrefix?: string;
  /** Labels on every series of this registry, e.g. `{ service: 'llm-gateway' }`. */
  defaultLabels?: Record<string, string>;
}

type Kind = 'counter' | 'gauge' | 'histogram';
type MetricConfig<T extends string> = Omit<CounterConfiguration<T>, 'registers' | 'collect'>;
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** A registry plus idempotent constructors; serve `metrics()` with `contentType` at `/metrics`. */
export class Metrics {
  readonly registry = new Registry();
  readonly #known = new Map<string, { kind: Kind; labelNames: string; metric: AnyMetric }>();

  constructor(options: MetricsOptions = {}) {
    if (options.defaultLabels !== undefined) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.collectDefaultMetrics === true) {
      collectDefaultMetrics({
        register: this.registry,
        ...(options.defaultMetricsPrefix === undefined ? {} : { prefix: options.defaultMetricsPrefix }),
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  counter<T extends string = string>(config: MetricConfig<T>): Counter<T> {
    return this.#getOrCreate(
      'counter',
      config,
      () => new Counter<T>({ ...config, registers: [this.registry] }),
    );
  }

  gauge<T extends string = string>(config: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    return this.#getOrCreate('gauge', config, () => new Gauge<T>({ ...config, registers: [this.registry] }));
  }

  histogram<T extends string = string>(config: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    return this.#getOrCreate(
      'histogram',
      config,
      () => new Histogram<T>({ ...config, registers: [this.registry] }),
    );
  }

  /** Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Same name → same metric. A second request that disagrees on type or labels is a programming
   * error (two modules would write incompatible series), so it throws instead of guessing.
   */
  #getOrCreate<M extends AnyMetric>(
    kind: Kind,
    config: { name: string; labelNames?: readonly string[] | undefined },
    create: () => M,
  ): M {
    const labelNames = [...(config.labelNames ?? [])].sort().join(',');
    const existing = this.#known.get(config.name);
    if (existing !== undefined) {
      if (existing.kind !== kind || existing.labelNames !== labelNames) {
        throw new NightshiftError(
          'METRIC_CONFLICT',
          `metric ${config.name} already exists as a ${existing.kind} with labels [${existing.labelNames}]`,
          { category: 'fatal', details: { name: config.name, kind, labelNames } },
        );
      }
      return existing.metric as M;
    }
    const metric = create();
    this.#known.set(config.name, { kind, labelNames, metric });
    return metric;
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}
