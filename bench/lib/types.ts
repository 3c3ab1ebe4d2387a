/** The benchmark's options and report: shared by the runner (run.ts), the report writer and the chart. */
import type { DbKind } from "./databases";
import type { LoadResult } from "./load";

export interface BenchOptions {
  duration: number;
  rounds: number;
  dbs: DbKind[];
  bigKeys: number;
  revokeKeys: number;
  keys: number;
  users: number;
  connections: number;
  warmup: number;
  out: string;
  pin: boolean;
  /**
   * Wait for MariaDB to go idle after seeding and after each revokeAllApiKeys. Off for runs that
   * measure nothing (the smoke test), where the database is busy with other tests' work and would
   * be waited for in vain.
   */
  quiesce: boolean;
  naiveKeys: number;
  /** bcrypt cost of the seeded users' passwords (production: 12). */
  passwordCost: number;
  /** Scenario ids to measure (and `revokeAllApiKeys`); all when absent. */
  only?: string[];
  log?: (line: string) => void;
}

export interface ScenarioResult {
  id: string;
  db: DbKind | null;
  connections: number;
  note: string;
  rounds: LoadResult[];
  median: LoadResult;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; pinned: boolean; totalMemMB: number };
  options: Omit<BenchOptions, "log">;
  scenarios: ScenarioResult[];
  revokeAll: Array<{ db: DbKind; keys: number; ms: number[]; medianMs: number }>;
  /** Waits for MariaDB's background work (purge, flushing) to end, after seeding and each revoke phase. */
  quiesceWaitsMs: number[];
  seeding: Array<{ db: DbKind; what: string; rows: number; ms: number }>;
  /** value: ratio of req/s; cpuValue: the same ratio if both were CPU-bound (inverse ratio of server CPU µs per request). */
  ratios: Array<{ db: DbKind | null; name: string; value: number; cpuValue: number; target: string; met: boolean | null; cpuMet: boolean | null }>;
  files?: { md: string; json: string; png: string };
}
