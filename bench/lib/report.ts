import type { BenchReport } from "./types";

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

export function writeBenchReport(report: BenchReport, pngName: string): string {
  const o = report.options;
  const lines: string[] = [];
  lines.push(`# Benchmark ${report.startedAt}`, "");
  lines.push(
    `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.totalMemMB} MB, Node ${report.machine.node}; ` +
      (report.machine.pinned ? "servers pinned to CPU 0, autocannon to CPU 1." : "not pinned (no taskset).") +
      " Servers run compiled JavaScript under NODE_ENV=production, as `npm start` runs the service.",
  );
  lines.push(
    `Run: ${o.rounds} rounds × ${o.duration} s per scenario, interleaved (every scenario once per round, in the same order), after a ${o.warmup} s warm-up each; ` +
      `${o.connections} connections unless noted; medians over rounds (peak RSS: max). Started ${report.startedAt}, finished ${report.finishedAt}.`,
    "",
  );
  if (report.quiesceWaitsMs?.length) {
    const waits = report.quiesceWaitsMs.map((ms) => (ms / 1000).toFixed(1)).join(", ");
    lines.push(`After seeding and after each round's revokeAllApiKeys, the run waited for MariaDB's background work (purge, page flushing) to end (its CPU under 3% for 1 s) before measuring again: ${waits} s.`, "");
  }
  lines.push("Absolute numbers drift on this machine (up to 3× within minutes); compare the **ratios**: each is the median of the per-round ratios between two scenarios of this run, which ran seconds apart.", "");
  lines.push(
    "## Ratios and targets",
    "",
    "Two readings of each ratio: **req/s** (measured throughput) and **CPU** (server CPU µs per request, inverted: the throughput ratio the two would have if both were bound by the server's core). On a loaded machine the load generator or a neighbour can cap throughput while the server idles; the CPU reading does not depend on that.",
    "",
    "| database | ratio | req/s | CPU | target | met (req/s) | met (CPU) |",
    "|---|---|---|---|---|---|---|",
  );
  const yes = (met: boolean | null) => (met === null ? "–" : met ? "yes" : "**no**");
  for (const r of report.ratios) lines.push(`| ${r.db ?? "–"} | ${r.name} | ${fixed(r.value, r.value >= 10 ? 0 : 2)} | ${fixed(r.cpuValue, r.cpuValue >= 10 ? 0 : 2)} | ${r.target || "–"} | ${yes(r.met)} | ${yes(r.cpuMet)} |`);
  lines.push("");
  lines.push("## Scenarios (medians)", "", "| scenario | db | conns | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MB | SQL/req | SELECT/req | writes/req | unexpected |", "|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const s of report.scenarios) {
    const m = s.median;
    lines.push(
      `| ${s.id} | ${s.db ?? "–"} | ${s.connections} | ${fixed(m.rps, m.rps < 100 ? 1 : 0)} | ${fixed(m.p50, 1)} | ${fixed(m.p99, 1)} | ${fixed(m.cpuMicrosPerRequest)} | ${fixed(m.peakRssMB)} | ${s.id.startsWith("baseline") || s.id.startsWith("naive") ? "–" : fixed(m.sqlPerRequest, 3)} | ${s.id.startsWith("baseline") || s.id.startsWith("naive") ? "–" : fixed(m.selectsPerRequest, 3)} | ${s.id.startsWith("baseline") || s.id.startsWith("naive") ? "–" : fixed(m.writesPerRequest, 4)} | ${m.unexpected} |`,
    );
  }
  lines.push("");
  lines.push("SQL/req counts every statement the service's DataSource sent during the run (a query counter on the DataSource), divided by the requests served. It includes the write-behind flush of lastUsedAt (a timer, never on the request path: BEGIN, one UPDATE per key used, COMMIT, at most once per key per minute), which is what writes/req and the part of SQL/req above SELECT/req are. The request path itself is measured exactly by test/auth/sql-per-request.http.test.ts: at most one SELECT per key-authenticated request (a key's first request, or any request when the key cache is stale or off; cached lookups need none), zero writes. The key cache's poll of the revocation generation (one tiny SELECT every KEY_CACHE_WINDOW_MS/4, off the request path, outside the DataSource) is not counted.", "");
  lines.push("## revokeAllApiKeys", "", "| db | keys | median ms | rounds ms |", "|---|---|---|---|");
  for (const r of report.revokeAll) lines.push(`| ${r.db} | ${r.keys} | ${fixed(r.medianMs)} | ${r.ms.map((v) => fixed(v)).join(", ")} |`);
  lines.push("", "## Seeding", "", "| db | what | rows | ms |", "|---|---|---|---|");
  for (const s of report.seeding) lines.push(`| ${s.db} | ${s.what} | ${s.rows} | ${s.ms} |`);
  lines.push("", "## Scenario details", "");
  for (const s of report.scenarios) lines.push(`- \`${s.id}\`${s.db ? ` (${s.db})` : ""}: ${s.note}. Rounds req/s: ${s.rounds.map((r) => fixed(r.rps, r.rps < 100 ? 1 : 0)).join(", ")}`);
  lines.push("", `![throughput and p99 per scenario](${pngName})`, "");
  return lines.join("\n");
}
