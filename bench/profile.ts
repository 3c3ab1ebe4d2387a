/**
 * `npm run bench:profile`: runs the service under `node --cpu-prof` for one scenario at a time
 * (apikey-basic, bad-keys-unknown, anonymous; SQLite, 1,000 keys) and prints the top frames by
 * self time, grouped by package, as the README's profile summary.
 * Flags: --seconds s (default 10), --out dir (default bench/results/profiles).
 */
import fs from "node:fs";
import path from "node:path";
import { pin, startServer } from "./lib/children";
import { createBenchDatabase, madeUpKey, seed } from "./lib/databases";
import { drive } from "./lib/load";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function summarise(file: string, top = 15): string[] {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  const total = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const byFrame = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const url = node.callFrame.url.replace(/^file:\/\//, "");
    const where = url.includes("node_modules/") ? url.split("node_modules/").pop()!.split("/").slice(0, url.includes("node_modules/@") ? 2 : 1).join("/") : url.includes("/src/") ? "src (ours)" : url.startsWith("node:") ? "node core" : url ? path.basename(url) : `(${node.callFrame.functionName || "native"})`;
    const frame = `${node.callFrame.functionName || "(anonymous)"} ${url ? `${path.basename(url)}:${node.callFrame.lineNumber + 1}` : ""}`.trim();
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
    byPackage.set(where, (byPackage.get(where) ?? 0) + hits);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
  const lines = ["self time by package:"];
  for (const [name, hits] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 10)) lines.push(`  ${pct(hits).padStart(6)}  ${name}`);
  lines.push("top frames by self time:");
  for (const [name, hits] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(hits).padStart(6)}  ${name}`);
  return lines;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
  const seconds = Number(arg("seconds", "10"));
  const out = arg("out", path.join(__dirname, "results", "profiles"));
  fs.mkdirSync(out, { recursive: true });
  const pinned = pin(process.pid, 1);
  const db = await createBenchDatabase("sqlite", "profile");
  try {
    const seeded = await seed(db, { users: 100, realKeys: 1000, totalKeys: 1001, password: "profile-password", bcryptCost: 4 });
    const basic = (key: string) => ({ authorization: "Basic " + Buffer.from(`apikey:${key}`).toString("base64") });
    const scenarios = [
      { name: "apikey-basic", body: JSON.stringify({ query: "{ me { id email } }" }), pool: seeded.keys.map(basic), expectStatus: 200 },
      { name: "bad-keys-unknown", body: JSON.stringify({ query: "{ me { id email } }" }), pool: Array.from({ length: 1000 }, () => basic(madeUpKey())), expectStatus: 401 },
      { name: "anonymous", body: JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }), pool: undefined, expectStatus: 200 },
    ];
    for (const scenario of scenarios) {
      const server = await startServer(`profile-${scenario.name}`, "service", { DATABASE_URL: db.url, BENCH_LOG_FILE: path.join(out, `${scenario.name}.log`) }, { cpu: pinned ? 0 : undefined, cpuProfileDir: out });
      await drive({ server, connections: 50, body: scenario.body, headerPool: scenario.pool, expectStatus: scenario.expectStatus }, 1);
      const result = await drive({ server, connections: 50, body: scenario.body, headerPool: scenario.pool, expectStatus: scenario.expectStatus }, seconds);
      await server.stop();
      fs.rmSync(path.join(out, `${scenario.name}.log`), { force: true });
      const file = path.join(out, `profile-${scenario.name}.cpuprofile`);
      process.stdout.write(`\n## ${scenario.name}: ${result.rps.toFixed(0)} req/s, ${result.cpuMicrosPerRequest.toFixed(0)} µs CPU/req (profiled, so slower)\n${summarise(file).join("\n")}\n`);
    }
  } finally {
    await db.drop();
  }
}

if (require.main === module) main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
