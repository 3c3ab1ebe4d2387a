import type { Logger } from "pino";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { CounterTally, OneLabelHistogram } from "./metrics-tally";

/** Operation names come from clients: beyond this many distinct ones, the rest count as "other". */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ACTIVE_KEYS_CACHE_MS = 5_000;

/** What the gauges read at scrape time. Structural, so observability/ imports nothing above it. */
export interface MetricsSources {
  /** Unexpired API keys (one SQL COUNT, cached between scrapes here). */
  countActiveKeys(): Promise<number>;
  /** The lastUsedAt write-behind queue. */
  lastUsed: { readonly pendingCount: number; onFlush(listener: (seconds: number, written: number, ok: boolean) => void): void };
  logger: Logger;
}

/** One authentication's outcome, as the authenticator or the throttle reported it. */
export type AuthOutcome = { ok: true } | { ok: false; throttled: true } | { ok: false; reason: string };

export interface MetricsOptions {
  /** A registry of this app's own; a fresh one by default, never prom-client's global one. */
  registry?: Registry;
  /** Process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
  /** How long the active-keys COUNT is reused between scrapes; 5 s by default. */
  activeKeysCacheMs?: number;
}

/**
 * Prometheus metrics of one app. The server calls observeRequest/observeAuth; the gauges
 * that need the database or the lastUsed queue are read when Prometheus scrapes.
 */
export class Metrics {
  readonly registry: Registry;
  private readonly duration: OneLabelHistogram;
  private readonly requestTally = new CounterTally<"route" | "operation" | "status">();
  private readonly authTally = new CounterTally<"method" | "outcome" | "reason">();
  /** The series the request path hits over and over, kept to skip building its key (observeRequest, observeAuth). */
  private lastRequestSeries: { route: string; label: string; status: number; counter: { count: number } } | null = null;
  private readonly authSuccesses: Partial<Record<string, { count: number }>> = {};
  private readonly flushDuration: Histogram<"outcome">;
  private readonly operations = new Set<string>();
  private activeKeysCache: { value: number; at: number } | null = null;
  private readonly activeKeysCacheMs: number;

  // One declaration per metric, kept together so the registry reads as one list.
  constructor(
    private readonly sources: MetricsSources,
    options: MetricsOptions = {},
  ) {
    this.registry = options.registry ?? new Registry();
    this.activeKeysCacheMs = options.activeKeysCacheMs ?? ACTIVE_KEYS_CACHE_MS;
    const registers = [this.registry];
    // The per-request series are tallied in plain numbers and handed over at scrape time.
    const { requestTally, authTally } = this;
    new Counter({
      name: "xta_http_requests_total",
      help: "HTTP requests by route, GraphQL operation name and status code.",
      labelNames: ["route", "operation", "status"],
      registers,
      collect() {
        requestTally.drainInto(this);
      },
    });
    this.duration = new OneLabelHistogram(
      "xta_http_request_duration_seconds",
      "HTTP request duration in seconds, by route.",
      "route",
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    );
    new Counter({
      name: "xta_authentications_total",
      help: "Authentications of /graphql requests by method (apikey, password, none, malformed) and outcome (success, failure) with the failure reason.",
      labelNames: ["method", "outcome", "reason"],
      registers,
      collect() {
        authTally.drainInto(this);
      },
    });
    this.flushDuration = new Histogram({
      name: "xta_last_used_flush_duration_seconds",
      help: "Duration of each lastUsedAt write-behind flush, by outcome (ok, error).",
      labelNames: ["outcome"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    const lastUsed = sources.lastUsed;
    new Gauge({
      name: "xta_last_used_pending",
      help: "Key uses noted in memory and not yet written (lastUsedAt write-behind queue size).",
      registers,
      collect() {
        this.set(lastUsed.pendingCount);
      },
    });
    const metrics = this;
    new Gauge({
      name: "xta_api_keys_active",
      help: `Unexpired API keys (counted at scrape time, cached for ${ACTIVE_KEYS_CACHE_MS / 1000} s).`,
      registers,
      async collect() {
        const value = await metrics.activeKeys();
        if (value !== null) this.set(value);
      },
    });
    lastUsed.onFlush((seconds, _written, ok) => this.flushDuration.observe({ outcome: ok ? "ok" : "error" }, seconds));
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "xta_" });
  }

  /** One finished HTTP request. `route`: a known path or "other"; operation the GraphQL operation name if any. */
  observeRequest(route: string, operation: string | undefined, status: number, seconds: number): void {
    const label = this.operationLabel(operation);
    const last = this.lastRequestSeries;
    if (last !== null && last.route === route && last.label === label && last.status === status) last.counter.count++;
    else {
      // Routes and operation labels hold no space (OPERATION_NAME), so the key is unambiguous.
      const counter = this.requestTally.counter(`${route} ${label} ${status}`, () => ({ route, operation: label, status: String(status) }));
      counter.count++;
      this.lastRequestSeries = { route, label, status, counter };
    }
    this.duration.observe(route, seconds);
  }

  /** One authentication attempt on /graphql. Never sees the secret, only its kind. */
  observeAuth(credentials: { kind: string }, result: AuthOutcome): void {
    const method = credentials.kind;
    if (result.ok) (this.authSuccesses[method] ??= this.authTally.counter(`${method} success`, () => ({ method, outcome: "success", reason: "" }))).count++;
    else if ("throttled" in result && result.throttled) this.authTally.add(`${method} throttled`, () => ({ method, outcome: "throttled", reason: "TOO_MANY_REQUESTS" }));
    else {
      const { reason } = result as { reason: string };
      this.authTally.add(`${method} failure ${reason}`, () => ({ method, outcome: "failure", reason }));
    }
  }

  private operationLabel(operation: string | undefined): string {
    if (!operation) return "";
    if (!OPERATION_NAME.test(operation)) return "other";
    if (this.operations.has(operation)) return operation;
    if (this.operations.size >= MAX_OPERATION_LABELS) return "other";
    this.operations.add(operation);
    return operation;
  }

  private async activeKeys(): Promise<number | null> {
    const now = Date.now();
    if (this.activeKeysCache && now - this.activeKeysCache.at < this.activeKeysCacheMs) return this.activeKeysCache.value;
    try {
      this.activeKeysCache = { value: await this.sources.countActiveKeys(), at: now };
      return this.activeKeysCache.value;
    } catch (error) {
      // A scrape must not fail because the database is away; the gauge keeps its last value.
      this.sources.logger.warn({ err: error }, "could not count active API keys for metrics");
      return this.activeKeysCache?.value ?? null;
    }
  }
}
