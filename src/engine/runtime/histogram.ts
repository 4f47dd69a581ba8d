// A Prometheus histogram the data path can observe without allocating: each label set is a
// series object created once (the caller keeps it), an observation is a bucket search and three
// increments. prom-client's own Histogram hashes the labels and builds objects on every
// observe(), so it is not used on the hot path; this one registers with a prom-client Registry
// and is rendered by it at scrape time like any other metric.
import type { Registry } from 'prom-client';

export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Set<HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds in seconds, ascending. */
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** A new series for these labels; the caller keeps it and observes into it. */
  create(labels: Record<string, string>): HistogramSeries {
    const s: HistogramSeries = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.series.add(s);
    return s;
  }

  /** Stops exporting a series (its pool or server left the configuration). */
  drop(s: HistogramSeries): void {
    this.series.delete(s);
  }

  observe(s: HistogramSeries, seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]) i++;
    s.counts[i]++;
    s.sum += seconds;
    s.count++;
  }

  /** prom-client's metric interface: called by Registry.metrics() at scrape time. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series) {
      if (s.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({ metricName: bucket, labels: { ...s.labels, le: this.bounds[i] }, value: acc });
      }
      values.push({ metricName: bucket, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
