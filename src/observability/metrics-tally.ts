import type { Counter, Registry } from "prom-client";

/**
 * Counts per label set in plain numbers, handed to a prom-client Counter when it is scraped (its
 * `collect`). prom-client's own `inc(labels)` validates and hashes the label object on every call,
 * which on the request path cost more than the rest of the metrics work.
 */
export class CounterTally<L extends string> {
  private readonly pending = new Map<string, { labels: Record<L, string>; count: number }>();

  /** `key` must identify `labels` (the caller builds it from the same values, more cheaply). */
  add(key: string, labels: () => Record<L, string>): void {
    this.counter(key, labels).count++;
  }

  /**
   * The running count of one label set, to increment directly: a caller that sees the same label
   * set again and again keeps it and skips building the key. It stays valid: drains zero it, never remove it.
   */
  counter(key: string, labels: () => Record<L, string>): { count: number } {
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { labels: labels(), count: 0 };
      this.pending.set(key, entry);
    }
    return entry;
  }

  /** Moves the counts into the counter; call from its `collect`. */
  drainInto(counter: Counter<L>): void {
    for (const entry of this.pending.values()) {
      if (entry.count > 0) counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

interface Series {
  /** Per bucket, not cumulative: counts[i] is observations in (bounds[i-1], bounds[i]]. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram with one label, for the request path: an observation is a Map lookup, a
 * short bucket search and three additions. Registered in a prom-client Registry, it is scraped
 * exactly as prom-client's Histogram is (same series, same label order).
 */
export class OneLabelHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly bounds: readonly number[],
    registers: Registry[],
  ) {
    for (const registry of registers) registry.registerMetric(this as never);
  }

  observe(labelValue: string, value: number): void {
    let series = this.series.get(labelValue);
    if (!series) {
      series = { counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(labelValue, series);
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  async get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string; exemplar?: null }> = [];
    for (const [labelValue, series] of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i];
        values.push({ labels: { le: bound, [this.labelName]: labelValue }, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: "+Inf", [this.labelName]: labelValue }, value: series.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: { [this.labelName]: labelValue }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { [this.labelName]: labelValue }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
  }
}
