/**
 * `npm run bench:icount`: instructions per request under valgrind's callgrind, a reading of the
 * request path's cost that this machine's noise cannot move (the same build and load give the
 * same count to within about one per cent, whatever else the machine is doing). Each server runs
 * under callgrind, takes a warm-up load, a full GC and a third more warm-up, then its counters are zeroed, a measured load of N
 * requests is sent (10 connections), and the counters are dumped. Turbofan's background
 * compilation is subtracted: under valgrind it lags far behind the load, and in a real run it
 * is over within seconds. Kernel time (the socket system calls) is not counted: the ratios here
 * are of user-space work only, so they are lower than the throughput ratios of `npm run bench`.
 * Flags (or env): --requests n (ICOUNT_REQUESTS, 3000), --warmup n (ICOUNT_WARMUP, 12000),
 * --targets list (ICOUNT_TARGETS, baseline-http,baseline-apollo,apollo-lean,service,service-nocache;
 * also service-typename: the service answering `{ __typename }`, no resolver run; service-1M and
 * service-1M-nocache: as service and service-nocache with 1,000,000 keys in the table; service-cookie:
 * as service, authenticated by the session cookies of 20 logged-in users),
 * --servers-dir dir (ICOUNT_SERVERS_DIR): measure compiled servers from there instead of building
 * (an ablation: a copy of .bench-build/ with one part patched out, kept inside the project so
 * its requires still find node_modules), --out dir (bench/results).
 */
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { compiledServersDir, startServer } from "./lib/children";
import { createBenchDatabase, seed } from "./lib/databases";
import { loginCookies } from "./lib/load";

interface Target {
  name: string;
  file: string;
  env: Record<string, string>;
  query: string;
  authenticated: boolean;
  /** Authenticated by the session cookies of logged-in users instead of API keys. */
  cookie?: boolean;
  /** "big": the database with BIG_TABLE_KEYS keys (the same 1,000 drawn from), else 1,001 keys. */
  database?: "big";
}

const PASSWORD = "icount-password";

/** The key table of the `-1M` targets: the lookup's cost against the table's size. */
const BIG_TABLE_KEYS = 1_000_000;

const TARGETS: Record<string, Omit<Target, "name">> = {
  "baseline-http": { file: "baseline-http", env: {}, query: "{ hello }", authenticated: false },
  "baseline-apollo": { file: "baseline-apollo", env: {}, query: "{ hello }", authenticated: false },
  "apollo-lean": { file: "apollo-lean", env: {}, query: "{ hello }", authenticated: false },
  service: { file: "service", env: {}, query: "{ me { id email } }", authenticated: true },
  "service-typename": { file: "service", env: {}, query: "{ __typename }", authenticated: true },
  "service-cookie": { file: "service", env: {}, query: "{ me { id email } }", authenticated: true, cookie: true },
  "service-nocache": { file: "service", env: { KEY_CACHE_WINDOW_MS: "0" }, query: "{ me { id email } }", authenticated: true },
  "service-1M": { file: "service", env: {}, query: "{ me { id email } }", authenticated: true, database: "big" },
  "service-1M-nocache": { file: "service", env: { KEY_CACHE_WINDOW_MS: "0" }, query: "{ me { id email } }", authenticated: true, database: "big" },
};

export interface IcountResult {
  target: string;
  instructionsPerRequest: number;
  compileInstructionsPerRequest: number;
  unexpected: number;
}

export async function runIcount(options: { requests: number; warmup: number; targets: string[]; serversDir?: string }): Promise<IcountResult[]> {
  if (!options.serversDir && !compiledServersDir()) throw new Error("bench:icount measures the compiled servers; unset BENCH_TS_NODE");
  const needsBig = options.targets.some((name) => TARGETS[name]?.database === "big");
  const databases = needsBig ? await Promise.all([createBenchDatabase("sqlite", "icount"), createBenchDatabase("sqlite", "icount-1m")]) : [await createBenchDatabase("sqlite", "icount")];
  const [db, big] = databases;
  const results: IcountResult[] = [];
  try {
    const basicHeaders = (keys: string[]) => keys.map((key) => ({ authorization: `Basic ${Buffer.from(`apikey:${key}`).toString("base64")}` }));
    const seeded = await seed(db, { users: 100, realKeys: 1000, totalKeys: 1001, password: PASSWORD, bcryptCost: 4 });
    const keyHeaders = basicHeaders(seeded.keys);
    const bigKeyHeaders = big ? basicHeaders((await seed(big, { users: 100, realKeys: 1000, totalKeys: BIG_TABLE_KEYS, password: PASSWORD, bcryptCost: 4 })).keys) : [];
    // Instruction counts do not depend on what else runs, so two servers are measured at a time.
    const measure = async (name: string): Promise<IcountResult> => {
      const spec = TARGETS[name];
      if (!spec) throw new Error(`unknown target ${name} (known: ${Object.keys(TARGETS).join(", ")})`);
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "xta-icount-"));
      const server = await startServer(`icount-${name}`, spec.file, { ...TIMERS_OUT_OF_THE_COUNT, BENCH_LOG_FILE: path.join(outDir, "access.log"), DATABASE_URL: (spec.database === "big" ? big : db).url, ...spec.env }, {
        wrapper: ["valgrind", "--tool=callgrind", `--callgrind-out-file=${outDir}/callgrind.%p`],
        // Node starting under valgrind takes minutes, more on a machine busy with other work.
        startTimeoutMs: 900_000,
        serversDir: options.serversDir,
      });
      try {
        const body = JSON.stringify({ query: spec.query });
        const headers = !spec.authenticated ? [{}] : spec.cookie ? await loginCookies(server, seeded.emails.slice(1, 21), PASSWORD) : spec.database === "big" ? bigKeyHeaders : keyHeaders;
        await load(server.port, options.warmup, headers, body);
        // A full GC at a fixed point, so whether a major collection falls into the window does
        // not depend on what the warm-up left behind; then more warm-up, because a forced GC
        // also drops compiled code that is then compiled again.
        await server.stats({ gc: true });
        await load(server.port, Math.ceil(options.warmup / 3), headers, body);
        execFileSync("callgrind_control", ["--zero", String(server.pid)], { stdio: "ignore" });
        const answered = await load(server.port, options.requests, headers, body);
        execFileSync("callgrind_control", ["--dump", String(server.pid)], { stdio: "ignore" });
        const { total, compile } = readDump(outDir, server.pid);
        return { target: name, instructionsPerRequest: (total - compile) / options.requests, compileInstructionsPerRequest: compile / options.requests, unexpected: options.requests - answered };
      } finally {
        await server.stop();
        fs.rmSync(outDir, { recursive: true, force: true });
      }
    };
    const queue = [...options.targets];
    const byName = new Map<string, IcountResult>();
    await Promise.all(
      [0, 1].map(async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) byName.set(name, await measure(name));
      }),
    );
    results.push(...options.targets.map((name) => byName.get(name)!));
  } finally {
    await Promise.all(databases.map((database) => database.drop()));
  }
  return results;
}

/**
 * Work on a wall-clock timer (the key cache's poll, the log flush, the lastUsedAt flush of up to
 * 1,000 rows) would be charged to 50× fewer requests under valgrind, more so when two servers
 * share the cores, and lands in one window and not the next. Slowed to once a minute or more, it
 * stays out of the count; the request path is the same (a key used within the last day is not
 * queued again, the common case of a script's requests).
 */
const TIMERS_OUT_OF_THE_COUNT = {
  KEY_CACHE_WINDOW_MS: "60000",
  LOG_FLUSH_INTERVAL_MS: "60000",
  LAST_USED_FLUSH_INTERVAL_MS: "3600000",
  LAST_USED_MIN_INTERVAL_MS: "86400000",
};

/** Sends `amount` POSTs over 10 connections; returns how many were answered 2xx. */
async function load(port: number, amount: number, headerPool: Array<Record<string, string>>, body: string): Promise<number> {
  const base = { "content-type": "application/json" };
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 10,
    amount,
    timeout: 120,
    requests: [{ method: "POST", path: "/graphql", headers: base, body, setupRequest: (req: any) => ({ ...req, headers: { ...base, ...headerPool[Math.floor(Math.random() * headerPool.length)] } }) }],
  });
  return result["2xx"];
}

function readDump(outDir: string, pid: number): { total: number; compile: number } {
  const dumps = fs.readdirSync(outDir).filter((file) => file.startsWith(`callgrind.${pid}.`)).sort();
  const file = path.join(outDir, dumps[dumps.length - 1]);
  const total = Number(/^(?:summary|totals):\s+(\d+)/m.exec(fs.readFileSync(file, "utf8"))![1]);
  const annotated = execFileSync("callgrind_annotate", ["--inclusive=yes", "--threshold=100", file], { encoding: "utf8", maxBuffer: 1 << 28 });
  const compile = /^\s*([\d,]+)\s.*OptimizingCompileDispatcher::CompileTask::RunInternal/m.exec(annotated);
  return { total, compile: compile ? Number(compile[1].replace(/,/g, "")) : 0 };
}

function report(results: IcountResult[], options: { requests: number; warmup: number; serversDir?: string }): string {
  const byName = new Map(results.map((r) => [r.target, r.instructionsPerRequest]));
  const lines = [
    `# Instructions per request (callgrind) ${new Date().toISOString()}`,
    "",
    `Node ${process.version}; SQLite, 1,000 keys; ${options.warmup} warm-up requests, then ${options.requests} measured (10 connections). User-space instructions of the server process, Turbofan's background compilation subtracted; kernel time not counted.${options.serversDir ? ` Servers from ${path.relative(process.cwd(), options.serversDir)} (an ablation), not this build.` : ""}`,
    "",
    "| target | k instructions / request | compile (subtracted) | unexpected answers |",
    "|---|---|---|---|",
    ...results.map((r) => `| ${r.target} | ${(r.instructionsPerRequest / 1000).toFixed(1)} | ${(r.compileInstructionsPerRequest / 1000).toFixed(1)} | ${r.unexpected} |`),
    "",
  ];
  const ratio = (a: string, b: string) => (byName.has(a) && byName.has(b) ? `| ${a} / ${b} | ${(byName.get(b)! / byName.get(a)!).toFixed(2)} |` : null);
  const ratios = [ratio("service", "baseline-apollo"), ratio("service", "apollo-lean"), ratio("apollo-lean", "baseline-http"), ratio("service", "baseline-http"), ratio("baseline-apollo", "baseline-http"), ratio("service", "service-nocache"), ratio("service-cookie", "service"), ratio("service-1M", "service"), ratio("service-1M-nocache", "service-nocache")].filter(Boolean);
  if (ratios.length) lines.push("Ratios as throughput would see them if user-space work were all (inverse of the instruction ratio):", "", "| ratio | value |", "|---|---|", ...(ratios as string[]), "");
  return lines.join("\n");
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const arg = (name: string, envName: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : (process.env[envName] ?? fallback));
  const options = {
    requests: Number(arg("requests", "ICOUNT_REQUESTS", "3000")),
    warmup: Number(arg("warmup", "ICOUNT_WARMUP", "12000")),
    targets: arg("targets", "ICOUNT_TARGETS", "baseline-http,baseline-apollo,apollo-lean,service,service-nocache").split(","),
    serversDir: arg("servers-dir", "ICOUNT_SERVERS_DIR", "") || undefined,
  };
  const out = arg("out", "ICOUNT_OUT", path.join(__dirname, "results"));
  runIcount(options)
    .then((results) => {
      const text = report(results, options);
      fs.mkdirSync(out, { recursive: true });
      const file = path.join(out, `icount-${new Date().toISOString().slice(0, 16).replace(/:/g, "")}.md`);
      fs.writeFileSync(file, text);
      process.stdout.write(`${text}\nwritten to ${file}\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`bench:icount failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}
