import fs from "node:fs";
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import path from "node:path";
import type { Stats } from "../servers/ipc";

export interface ServerChild {
  name: string;
  port: number;
  pid: number;
  url: string;
  /** The child's counters; `gc` first runs a full garbage collection in the child. */
  stats(options?: { gc?: boolean }): Promise<Stats>;
  stop(): Promise<void>;
}

/** Pins a process (all its threads) to one CPU, where taskset exists; returns whether it did. */
export function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync("taskset", ["-a", "-cp", String(cpu), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const ROOT = path.join(__dirname, "..", "..");
let compiled: string | null = null;

/**
 * Compiles src and bench with tsc (tsconfig.bench.json, into .bench-build/), once per process:
 * servers are measured as production runs them, plain node on compiled JavaScript with
 * NODE_ENV=production, not under ts-node's require hooks and source-map stack traces.
 * BENCH_TS_NODE=1 skips the build and runs the TypeScript through ts-node instead.
 */
/**
 * tsc never deletes output whose source moved away, and a stale src/config.js would shadow the
 * src/config/ folder it became. Only orphans go (not the whole folder): another bench process may
 * be running servers from it.
 */
function removeOrphans(buildDir: string): void {
  for (const entry of fs.readdirSync(buildDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
    const built = path.join(entry.parentPath, entry.name);
    const source = path.join(ROOT, path.relative(buildDir, built)).replace(/\.js$/, ".ts");
    if (!fs.existsSync(source)) fs.rmSync(built, { force: true });
  }
}

export function compiledServersDir(): string | null {
  if (process.env.BENCH_TS_NODE === "1") return null;
  if (!compiled) {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.bench.json")], { cwd: ROOT, stdio: "inherit" });
    removeOrphans(path.join(ROOT, ".bench-build"));
    compiled = path.join(ROOT, ".bench-build", "bench", "servers");
  }
  return compiled;
}

/** Starts bench/servers/<file> as a child (compiled, see compiledServersDir) and waits for its port. */
export function startServer(
  name: string,
  file: string,
  env: Record<string, string>,
  options: {
    cpu?: number;
    startTimeoutMs?: number;
    cpuProfileDir?: string;
    /** Runs node under this command (e.g. valgrind and its flags). */
    wrapper?: string[];
    /** Compiled servers from elsewhere than compiledServersDir() (e.g. a patched copy, for an ablation). */
    serversDir?: string;
  } = {},
): Promise<ServerChild> {
  const profile = options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const compiledDir = options.serversDir ?? compiledServersDir();
  const entry = compiledDir ? path.join(compiledDir, `${file}.js`) : path.join(__dirname, "..", "servers", `${file}.ts`);
  const nodeArgs = compiledDir ? ["--expose-gc", ...profile] : ["--expose-gc", ...profile, "-r", "ts-node/register/transpile-only"];
  const [wrapperCommand, ...wrapperArgs] = options.wrapper ?? [];
  const child: ChildProcess = fork(entry, [], {
    ...(wrapperCommand ? { execPath: wrapperCommand, execArgv: [...wrapperArgs, process.execPath, ...nodeArgs] } : { execArgv: nodeArgs }),
    // All load comes from one IP: the brute-force throttle would turn the bad-credential traffic
    // into 429s after 20 a minute, and the benchmark measures authentication, not the throttle.
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", NODE_ENV: "production", LOG_LEVEL: "info", AUTH_FAILURE_LIMIT: "1000000", ...env },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr = (stderr + String(chunk)).slice(-4000)));
  let nextId = 1;
  const pending = new Map<number, (stats: Stats) => void>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${name} did not start: ${stderr}`));
    }, options.startTimeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${stderr}`));
    });
    child.on("message", (message: { ready?: boolean; port?: number; id?: number; stats?: Stats }) => {
      if (message.id !== undefined && message.stats) {
        pending.get(message.id)?.(message.stats);
        pending.delete(message.id);
        return;
      }
      if (!message.ready) return;
      clearTimeout(timer);
      if (options.cpu !== undefined) pin(child.pid!, options.cpu);
      resolve({
        name,
        port: message.port!,
        pid: child.pid!,
        url: `http://127.0.0.1:${message.port}`,
        stats: (options = {}) =>
          new Promise((done) => {
            const id = nextId++;
            pending.set(id, done);
            child.send({ id, cmd: "stats", gc: options.gc === true });
          }),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.removeAllListeners("exit");
            const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
            child.once("exit", () => {
              clearTimeout(killer);
              done();
            });
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
