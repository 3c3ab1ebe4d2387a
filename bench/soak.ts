/**
 * `npm run soak`: a bounded run at a fixed request rate (open loop: requests are sent on schedule
 * whether or not earlier ones have answered) mixing authenticated queries, key generation,
 * revocation and bad credentials, on SQLite and on MariaDB. Reports unexpected answers (must be
 * 0), p99 latency per second, and the server's RSS over time (start vs end: growth must stay
 * bounded), as bench/results/soak-<stamp>.md, .json and .png.
 *
 * Flags (or env): --seconds s (SOAK_SECONDS, 60), --rate n req/s (SOAK_RATE, 200), --db sqlite,mariadb
 * (SOAK_DBS), --out dir (SOAK_OUT, bench/results), --no-pin.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderLineChart } from "./lib/chart";
import { pin, type ServerChild, startServer } from "./lib/children";
import { createBenchDatabase, type DbKind, madeUpKey, seed } from "./lib/databases";

export interface SoakOptions {
  seconds: number;
  rate: number;
  dbs: DbKind[];
  out: string;
  pin: boolean;
  /** RSS may grow by at most this much from the end of warm-up to the end. */
  maxGrowthMB: number;
  log?: (line: string) => void;
}

export function soakOptions(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const flag = (name: string, envName: string, fallback: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 && argv[index + 1] !== undefined ? argv[index + 1] : (env[envName] ?? fallback);
  };
  const dbs = flag("db", "SOAK_DBS", "sqlite,mariadb").split(",").map((s) => s.trim()) as DbKind[];
  for (const db of dbs) if (db !== "sqlite" && db !== "mariadb") throw new Error(`--db: unknown database ${db}`);
  const seconds = Number(flag("seconds", "SOAK_SECONDS", "60"));
  const rate = Number(flag("rate", "SOAK_RATE", "200"));
  if (!(seconds > 0) || !(rate > 0)) throw new Error("--seconds and --rate must be positive numbers");
  return { seconds, rate, dbs, out: flag("out", "SOAK_OUT", path.join(__dirname, "results")), pin: !argv.includes("--no-pin") && env.BENCH_PIN !== "0", maxGrowthMB: Number(flag("max-growth-mb", "SOAK_MAX_GROWTH_MB", "50")) };
}

type Action = "query" | "generate" | "revoke" | "bad-credentials";

export interface SoakDbResult {
  db: DbKind;
  sent: number;
  answered: number;
  unexpected: number;
  unexpectedSamples: string[];
  byAction: Record<Action, number>;
  perSecond: Array<{ second: number; requests: number; p99: number; rssMB: number }>;
  p99: number;
  rssStartMB: number;
  rssEndMB: number;
  rssMaxMB: number;
  growthMB: number;
  bounded: boolean;
}

export interface SoakReport {
  startedAt: string;
  finishedAt: string;
  options: Omit<SoakOptions, "log">;
  results: SoakDbResult[];
  passed: boolean;
  files?: { md: string; json: string; png: string };
}

const PASSWORD = "soak-password-not-secret";
const basicHeader = (user: string, password: string) => "Basic " + Buffer.from(`${user}:${password}`).toString("base64");

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function soakOne(kind: DbKind, options: SoakOptions, cpu: number | undefined, logDir: string): Promise<SoakDbResult> {
  const users = 20;
  const db = await createBenchDatabase(kind, "soak");
  let server: ServerChild | null = null;
  try {
    const seeded = await seed(db, { users, realKeys: 200, totalKeys: 201, password: PASSWORD, bcryptCost: 4 });
    server = await startServer(`soak-${kind}`, "service", { DATABASE_URL: db.url, BENCH_LOG_FILE: path.join(logDir, `soak-${kind}.log`), LAST_USED_FLUSH_INTERVAL_MS: "1000", LAST_USED_MIN_INTERVAL_MS: "5000" }, { cpu });
    const url = `${server.url}/graphql`;
    // Seeded keys k belong to user (k % users) + 1 (key 0 is the admin's); they are never revoked here.
    const seededKeys = seeded.keys;
    const fresh: string[] = []; // generated during the soak, revoked later by their owner
    const freshIds = new Map<string, { id: string; ownerKey: string }>();
    const latencies: Array<{ at: number; ms: number }> = [];
    const byAction: Record<Action, number> = { query: 0, generate: 0, revoke: 0, "bad-credentials": 0 };
    const unexpectedSamples: string[] = [];
    let unexpected = 0;
    let sent = 0;
    let answered = 0;
    const fail = (what: string) => {
      unexpected++;
      if (unexpectedSamples.length < 10) unexpectedSamples.push(what);
    };
    const post = async (query: string, authorization: string, variables?: Record<string, unknown>) => {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify({ query, variables }) });
      return { status: response.status, body: (await response.json()) as any };
    };
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];

    const one = async (started: number): Promise<void> => {
      const roll = Math.random();
      const action: Action = roll < 0.7 ? "query" : roll < 0.8 ? "generate" : roll < 0.9 && fresh.length ? "revoke" : "bad-credentials";
      byAction[action]++;
      if (action === "query") {
        const r = await post("{ me { id email } }", basicHeader("apikey", pick(seededKeys)));
        if (r.status !== 200 || !r.body?.data?.me?.id) fail(`query: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      } else if (action === "generate") {
        const ownerKey = pick(seededKeys);
        const r = await post("mutation { generateApiKey(description: \"soak\") { key apiKey { id } } }", basicHeader("apikey", ownerKey));
        const generated = r.body?.data?.generateApiKey;
        if (r.status !== 200 || !generated?.key) fail(`generate: ${r.status} ${JSON.stringify(r.body?.errors ?? null).slice(0, 200)}`);
        else {
          fresh.push(generated.key);
          freshIds.set(generated.key, { id: generated.apiKey.id, ownerKey });
        }
      } else if (action === "revoke") {
        const key = fresh.shift()!;
        const { id, ownerKey } = freshIds.get(key)!;
        freshIds.delete(key);
        const before = await post("{ me { id } }", basicHeader("apikey", key));
        if (before.status !== 200) fail(`fresh key before revocation: ${before.status}`);
        const r = await post("mutation ($id: ID!) { deleteMyApiKey(id: $id) }", basicHeader("apikey", ownerKey), { id });
        if (r.status !== 200 || r.body?.data?.deleteMyApiKey !== true) fail(`revoke: ${r.status} ${JSON.stringify(r.body?.errors ?? null).slice(0, 200)}`);
        const after = await post("{ me { id } }", basicHeader("apikey", key));
        if (after.status !== 401 || after.body?.errors?.[0]?.extensions?.reason !== "INVALID") fail(`revoked key still answered: ${after.status}`);
      } else {
        const kindOfBad = Math.floor(Math.random() * 3);
        const good = madeUpKey();
        const header =
          kindOfBad === 0 ? basicHeader("apikey", good) : kindOfBad === 1 ? basicHeader("apikey", good.slice(0, -1) + (good.endsWith("x") ? "y" : "x")) : "Basic !!not-base64!!";
        const expected = kindOfBad === 0 ? "INVALID" : "MALFORMED";
        const r = await post("{ me { id } }", header);
        if (r.status !== 401 || r.body?.errors?.[0]?.extensions?.reason !== expected) fail(`bad credentials: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
      answered++;
      latencies.push({ at: (started - t0) / 1000, ms: performance.now() - started });
    };

    const rss: Array<{ second: number; mb: number }> = [];
    const t0 = performance.now();
    const inFlight = new Set<Promise<void>>();
    const sampler = setInterval(async () => {
      const stats = await server!.stats();
      rss.push({ second: (performance.now() - t0) / 1000, mb: stats.rss / 1048576 });
    }, 1000);
    rss.push({ second: 0, mb: (await server.stats()).rss / 1048576 });
    let due = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = (performance.now() - t0) / 1000;
        const ending = elapsed >= options.seconds;
        // A tick that came late (a busy machine) sends what fell due meanwhile, the last one too: the
        // run sends seconds × rate requests, on schedule as far as the event loop allows.
        const target = Math.floor(Math.min(elapsed, options.seconds) * options.rate);
        for (; due < target; due++) {
          sent++;
          const started = performance.now();
          const request = one(started).catch((error: unknown) => fail(`request failed: ${error instanceof Error ? `${error.message}${(error as { cause?: { code?: string } }).cause?.code ? ` (${(error as { cause?: { code?: string } }).cause!.code})` : ""}` : String(error)}`));
          inFlight.add(request);
          void request.finally(() => inFlight.delete(request));
        }
        if (ending) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    await Promise.all(inFlight);
    clearInterval(sampler);
    const end = (await server.stats()).rss / 1048576;
    rss.push({ second: (performance.now() - t0) / 1000, mb: end });

    const seconds = Math.ceil(options.seconds);
    const perSecond = Array.from({ length: seconds }, (_, second) => {
      const inSecond = latencies.filter((l) => l.at >= second && l.at < second + 1).map((l) => l.ms);
      const sample = rss.filter((r) => r.second <= second + 1).pop();
      return { second, requests: inSecond.length, p99: percentile(inSecond, 99), rssMB: sample?.mb ?? NaN };
    });
    // "Start" is after the first tenth of the run (at least 1 s): caches, JIT and pools settle there.
    const warm = Math.max(1, options.seconds / 10);
    const rssStartMB = (rss.find((r) => r.second >= warm) ?? rss[0]).mb;
    const growthMB = end - rssStartMB;
    return {
      db: kind,
      sent,
      answered,
      unexpected,
      unexpectedSamples,
      byAction,
      perSecond,
      p99: percentile(latencies.map((l) => l.ms), 99),
      rssStartMB,
      rssEndMB: end,
      rssMaxMB: Math.max(...rss.map((r) => r.mb)),
      growthMB,
      bounded: growthMB <= options.maxGrowthMB,
    };
  } finally {
    await server?.stop();
    await db.drop().catch(() => undefined);
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const startedAt = new Date();
  const pinned = options.pin && pin(process.pid, 1);
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "xta-soak-"));
  const results: SoakDbResult[] = [];
  try {
    for (const kind of options.dbs) {
      log(`[${kind}] soak: ${options.seconds} s at ${options.rate} req/s`);
      const result = await soakOne(kind, options, pinned ? 0 : undefined, logDir);
      log(`[${kind}] ${result.answered}/${result.sent} answered, unexpected ${result.unexpected}, p99 ${result.p99.toFixed(1)} ms, RSS ${result.rssStartMB.toFixed(0)} → ${result.rssEndMB.toFixed(0)} MB`);
      results.push(result);
    }
  } finally {
    fs.rmSync(logDir, { recursive: true, force: true });
  }
  const report: SoakReport = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), options: { ...options, log: undefined } as SoakReport["options"], results, passed: results.every((r) => r.unexpected === 0 && r.bounded && r.answered === r.sent) };
  fs.mkdirSync(options.out, { recursive: true });
  const base = path.join(options.out, `soak-${startedAt.toISOString().slice(0, 16).replace(":", "")}`);
  report.files = { md: `${base}.md`, json: `${base}.json`, png: `${base}.png` };
  const colors: Record<string, string> = { sqlite: "#2f6fb5", mariadb: "#d0782a" };
  fs.writeFileSync(
    `${base}.png`,
    renderLineChart("External Tool Access: soak", `${report.startedAt} · ${options.seconds} s at ${options.rate} req/s · 70% queries, 10% generate, 10% revoke, 10%+ bad credentials`, [
      { title: "p99 latency per second", unit: "ms", series: results.map((r) => ({ name: r.db, color: colors[r.db], points: r.perSecond.filter((s) => Number.isFinite(s.p99)).map((s) => [s.second, s.p99] as [number, number]) })) },
      { title: "Server RSS", unit: "MB", series: results.map((r) => ({ name: r.db, color: colors[r.db], points: r.perSecond.filter((s) => Number.isFinite(s.rssMB)).map((s) => [s.second, s.rssMB] as [number, number]) })) },
    ]),
  );
  fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + "\n");
  const lines = [
    `# Soak ${report.startedAt}`,
    "",
    `${options.seconds} s at a fixed ${options.rate} req/s (open loop) per database; mix: 70% \`{ me }\` with a key, 10% generateApiKey, 10% revoke (a fresh key works, is deleted by its owner, then gets 401), the rest bad credentials (unknown, checksum-broken, malformed). Server pinned to CPU 0: ${pinned}.`,
    "",
    `Result: **${report.passed ? "passed" : "FAILED"}** (0 unexpected answers, every request answered, RSS growth after warm-up ≤ ${options.maxGrowthMB} MB).`,
    "",
    "| db | sent | answered | unexpected | p99 ms (whole run) | worst 1-s p99 ms | RSS after warm-up MB | RSS end MB | RSS max MB | growth MB | bounded |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map((r) => `| ${r.db} | ${r.sent} | ${r.answered} | ${r.unexpected} | ${r.p99.toFixed(1)} | ${Math.max(...r.perSecond.map((s) => (Number.isFinite(s.p99) ? s.p99 : 0))).toFixed(1)} | ${r.rssStartMB.toFixed(1)} | ${r.rssEndMB.toFixed(1)} | ${r.rssMaxMB.toFixed(1)} | ${r.growthMB.toFixed(1)} | ${r.bounded ? "yes" : "**no**"} |`),
    "",
    ...results.flatMap((r) => [`- ${r.db}: actions ${JSON.stringify(r.byAction)}${r.unexpectedSamples.length ? `; unexpected: ${r.unexpectedSamples.join(" / ")}` : ""}`]),
    "",
    `![p99 per second and RSS](${path.basename(base)}.png)`,
    "",
  ];
  fs.writeFileSync(`${base}.md`, lines.join("\n"));
  log(`wrote ${base}.md, .json, .png — ${report.passed ? "passed" : "FAILED"}`);
  return report;
}

if (require.main === module) {
  runSoak(soakOptions()).then(
    (report) => process.exit(report.passed ? 0 : 1),
    (error: unknown) => {
      process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
