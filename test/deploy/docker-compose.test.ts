/**
 * The deployment files, checked without a Docker engine:
 *  - docker-compose.yml is validated and rendered by the real Compose (`docker compose` or `docker-compose`);
 *  - the Dockerfile is parsed and compared with package.json's `start` script and tsconfig.build.json;
 *  - the TypeScript build is run for real, to prove the Dockerfile's CMD names a file it produces.
 */
import { execFile as execFileCallback } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { loadConfig } from "../../src/config";
import { findTool, runsWith } from "../support/tools";

const execFile = promisify(execFileCallback);
const ROOT = path.resolve(__dirname, "..", "..");
const BUILD_TSCONFIG = "tsconfig.build.json";

// ---------------------------------------------------------------------------------------------
// docker-compose

/** The Compose CLI on this machine: the `docker compose` plugin or the standalone `docker-compose`. */
const COMPOSE = findTool([["docker", "compose"], ["docker-compose"]], ["version"]);
const composeTest = runsWith("test/deploy/docker-compose.test.ts (Compose checks)", COMPOSE ? [] : ["`docker compose` or `docker-compose`"], "Debian: apt-get install -y docker-compose") ? test : test.skip;

/** docker-compose v1 is a Python program: seconds per run on a busy machine. */
const COMPOSE_TIMEOUT_MS = 120_000;

/** Passwords docker-compose.yml requires; the test's own, never a default of the file. */
const COMPOSE_SECRETS = { MYSQL_PASSWORD: "compose-test-db-pass", MYSQL_ROOT_PASSWORD: "compose-test-root-pass" };

/** Runs Compose with exactly the given variables of docker-compose.yml (the caller's environment could set them). */
async function dockerCompose(args: string[], variables: Record<string, string> = COMPOSE_SECRETS): Promise<{ stdout: string; stderr: string }> {
  if (!COMPOSE) throw new Error("neither `docker compose` nor `docker-compose` works on this machine, so docker-compose.yml cannot be validated.");
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "ADMIN_EMAIL", "ADMIN_PASSWORD", "LOG_LEVEL"]) delete env[name];
  try {
    return await execFile(COMPOSE[0], [...COMPOSE.slice(1), ...args], { cwd: ROOT, env: { ...env, ...variables }, maxBuffer: 10 * 1024 * 1024 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string; code?: string | number };
    throw new Error(`${COMPOSE.join(" ")} ${args.join(" ")} exited with ${String(e.code)}:\n${e.stderr ?? ""}${e.stdout ?? ""}`);
  }
}

/** js-yaml ships with jest (through babel-plugin-istanbul); it reads the YAML docker-compose renders. */
function parseYaml(text: string): any {
  let yaml: { load(text: string): unknown };
  try {
    yaml = require("js-yaml") as typeof yaml;
  } catch {
    throw new Error("js-yaml is needed to read `docker-compose config` output; it normally comes with jest. Run npm ci.");
  }
  return yaml.load(text);
}

/** Compose renders `environment` as a map (v1) or, from some tools, as a list of NAME=value. */
function environmentOf(service: any): Record<string, string> {
  const env = service?.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry: string) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]));
}

/** Volume entries are "source:target[:mode]" (Compose v1) or {type, source, target} (Compose v2). */
function volumeMounts(service: any): Array<{ source: string; target: string }> {
  return (service?.volumes ?? []).map((v: any) => {
    if (typeof v === "string") {
      const [source, target] = v.split(":");
      return { source, target };
    }
    return { source: v.source, target: v.target };
  });
}

function healthcheckCommand(service: any): string {
  const hc = service?.healthcheck;
  if (!hc || hc.disable) return "";
  const test = Array.isArray(hc.test) ? hc.test : [hc.test];
  if (test[0] === "NONE") return "";
  return test.join(" ");
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  /** WORKDIR in effect when the instruction runs. */
  workdir: string;
}
interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("#")) continue; // comments (and parser directives), also inside continuations
    if (line === "" && pending === "") continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    if (pending + line) logical.push((pending + line).trim());
    pending = "";
  }
  if (pending.trim()) logical.push(pending.trim());

  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/s.exec(line);
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    const args = match[2];
    if (keyword === "FROM") {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({ base: from?.[1] ?? "", name: from?.[2], instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    const previous = stage.instructions[stage.instructions.length - 1]?.workdir ?? "/";
    const workdir = keyword === "WORKDIR" ? path.posix.resolve(previous, args.trim()) : previous;
    stage.instructions.push({ keyword, args, workdir });
  }
  return stages;
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  workdir: string;
}

function parseCopy(instruction: Instruction): Copy {
  let rest = instruction.args.trim();
  let from: string | undefined;
  for (let flag = /^--(\w[\w-]*)(?:=(\S+))?\s+/.exec(rest); flag; flag = /^--(\w[\w-]*)(?:=(\S+))?\s+/.exec(rest)) {
    if (flag[1] === "from") from = flag[2];
    rest = rest.slice(flag[0].length);
  }
  const parts: string[] = rest.startsWith("[") ? JSON.parse(rest) : rest.split(/\s+/);
  return { from, sources: parts.slice(0, -1), dest: parts[parts.length - 1], workdir: instruction.workdir };
}

/** JSON (exec) form or shell form, as an argument list. */
function commandOf(instruction: Instruction): string[] {
  const args = instruction.args.trim();
  return args.startsWith("[") ? (JSON.parse(args) as string[]) : args.split(/\s+/);
}

const normalize = (p: string): string => p.replace(/^\.\//, "").replace(/\/+$/, "").replace(/^\.$/, "");
const globToRegExp = (glob: string): RegExp =>
  new RegExp("^" + glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]") + "$");

/**
 * Where a file or folder of the build context (relative path) ends up in the image after the
 * given COPY instructions, following Docker's rules: a folder's contents go into dest, a file goes
 * into dest/ when dest is a folder, else it becomes dest. Undefined if no COPY brings it in.
 */
async function landingPlace(relPath: string, copies: Copy[]): Promise<string | undefined> {
  let landed: string | undefined;
  for (const copy of copies) {
    const destAbs = path.posix.resolve(copy.workdir, copy.dest);
    const destIsDir = copy.dest.endsWith("/") || normalize(copy.dest) === "" || copy.sources.length > 1;
    for (const rawSource of copy.sources) {
      const source = normalize(rawSource);
      if (source === "") {
        landed = path.posix.join(destAbs, relPath);
      } else if (/[*?]/.test(source)) {
        if (globToRegExp(source).test(relPath)) landed = path.posix.join(destAbs, path.posix.basename(relPath));
      } else if (relPath === source || relPath.startsWith(source + "/")) {
        const isDir = (await fs.stat(path.join(ROOT, source))).isDirectory();
        if (isDir) landed = path.posix.join(destAbs, relPath.slice(source.length));
        else landed = destIsDir ? path.posix.join(destAbs, path.posix.basename(source)) : destAbs;
      }
    }
  }
  return landed;
}

/** .dockerignore patterns that would keep relPath (or a folder above it) out of the build context. */
async function ignoredBy(relPath: string): Promise<string[]> {
  const text = await fs.readFile(path.join(ROOT, ".dockerignore"), "utf8").catch(() => "");
  const patterns = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("!"));
  const prefixes = relPath.split("/").map((_, i, all) => all.slice(0, i + 1).join("/"));
  return patterns.filter((pattern) => prefixes.some((prefix) => globToRegExp(normalize(pattern)).test(prefix)));
}

/** Every file under a folder of the project (relative, / separated), node_modules left out. */
async function filesUnder(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(path.join(ROOT, folder), { withFileTypes: true })) {
    const relPath = `${folder}/${entry.name}`;
    if (entry.isDirectory() && entry.name !== "node_modules") files.push(...(await filesUnder(relPath)));
    else if (entry.isFile()) files.push(relPath);
  }
  return files;
}

/** The extends chain of a tsconfig (relative paths), e.g. tsconfig.build.json -> tsconfig.json. */
function tsconfigChain(file: string): string[] {
  const chain: string[] = [];
  for (let current: string | undefined = file; current; ) {
    chain.push(current);
    const { config, error } = ts.readConfigFile(path.join(ROOT, current), ts.sys.readFile);
    if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
    const parent: string | undefined = config.extends;
    current = parent ? path.posix.normalize(path.posix.join(path.posix.dirname(current), parent)) : undefined;
  }
  return chain;
}

function parsedBuildConfig(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, BUILD_TSCONFIG), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (!parsed) throw new Error(`could not read ${BUILD_TSCONFIG}`);
  return parsed;
}

/** The script `npm start` finally runs: "npm run build && node dist/src/main.js" -> "dist/src/main.js". */
async function startEntry(): Promise<string> {
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8"));
  const start: string = pkg.scripts?.start ?? "";
  const match = /(?:^|&&|;)\s*node\s+(?:--?\S+\s+)*([^\s;&]+)/.exec(start);
  if (!match) throw new Error(`package.json scripts.start does not run a file with node: "${start}"`);
  return path.posix.normalize(match[1]);
}

async function dockerfile(): Promise<{ stages: Stage[]; builder: Stage; runtime: Stage }> {
  const stages = parseDockerfile(await fs.readFile(path.join(ROOT, "Dockerfile"), "utf8"));
  const builder = stages.find((s) => s.instructions.some((i) => i.keyword === "RUN" && /\bnpm run build\b/.test(i.args)));
  if (!builder) throw new Error("no Dockerfile stage runs `npm run build`");
  return { stages, builder, runtime: stages[stages.length - 1] };
}

function cmdOf(stage: Stage): string[] {
  const cmds = stage.instructions.filter((i) => i.keyword === "CMD");
  if (cmds.length === 0) throw new Error("the final Dockerfile stage has no CMD");
  return commandOf(cmds[cmds.length - 1]);
}

// ---------------------------------------------------------------------------------------------

describe("deployment files", () => {
  composeTest("docker-compose.yml refuses to render without the database passwords: no guessable default", async () => {
    await expect(dockerCompose(["config", "-q"], {})).rejects.toThrow(/set MYSQL_PASSWORD/);
    await expect(dockerCompose(["config", "-q"], { MYSQL_PASSWORD: COMPOSE_SECRETS.MYSQL_PASSWORD })).rejects.toThrow(/set MYSQL_ROOT_PASSWORD/);
    const rendered = parseYaml((await dockerCompose(["config"])).stdout);
    expect(environmentOf(rendered.services.mysql)).toMatchObject(COMPOSE_SECRETS);
    expect(JSON.stringify(rendered)).not.toMatch(/change-me/);
  }, COMPOSE_TIMEOUT_MS);

  composeTest("docker-compose.yml validates, and runs the app on MySQL only once MySQL is healthy", async () => {
    await expect(dockerCompose(["config", "-q"])).resolves.toMatchObject({ stdout: "" });

    const rendered = parseYaml((await dockerCompose(["config"])).stdout);
    const { app, mysql } = rendered.services ?? {};
    expect(Object.keys(rendered.services ?? {}).sort()).toEqual(["app", "mysql"]);

    // The app reaches the mysql service by name, with the user, password and database MySQL creates.
    const appEnv = environmentOf(app);
    const mysqlEnv = environmentOf(mysql);
    const url = new URL(appEnv.DATABASE_URL);
    expect({ protocol: url.protocol, host: url.hostname, port: url.port, database: url.pathname.slice(1) }).toEqual({
      protocol: "mysql:",
      host: "mysql",
      port: "3306",
      database: mysqlEnv.MYSQL_DATABASE,
    });
    expect(decodeURIComponent(url.username)).toBe(mysqlEnv.MYSQL_USER);
    expect(decodeURIComponent(url.password)).toBe(mysqlEnv.MYSQL_PASSWORD);
    expect(mysql.image).toMatch(/^mysql:8\.4/);

    // The app's own config accepts the rendered environment; an empty ADMIN_PASSWORD counts as unset.
    const config = loadConfig(appEnv);
    expect(config.database).toMatchObject({ kind: "mysql", host: "mysql", port: 3306, database: "apikeys" });
    expect(config.host).toBe("0.0.0.0");
    expect(config.adminPassword).toBeUndefined();

    // Both services are health-checked, and the app starts only after MySQL answers.
    expect(healthcheckCommand(mysql)).toMatch(/mysqladmin ping/);
    expect(healthcheckCommand(app)).toContain(`127.0.0.1:${config.port}/healthz`);
    expect(app.depends_on?.mysql?.condition).toBe("service_healthy");
    expect(app.build).toBeDefined();
    expect(app.restart).toBe("unless-stopped");
    expect((app.ports ?? []).map((p: any) => (typeof p === "object" ? Number(p.target) : Number(String(p).split(":").pop())))).toContain(config.port);

    // MySQL's data lives in a named volume.
    const dataMount = volumeMounts(mysql).find((m) => m.target === "/var/lib/mysql");
    expect(dataMount).toBeDefined();
    expect(Object.keys(rendered.volumes ?? {})).toContain(dataMount!.source);
  }, COMPOSE_TIMEOUT_MS);

  test("Dockerfile builds the way npm start does", async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.start).toMatch(/\bnpm run build\b/);
    expect(pkg.scripts.build).toContain(BUILD_TSCONFIG);

    const { stages, builder, runtime } = await dockerfile();
    for (const stage of stages) expect(stage.base).toMatch(/^node:20-bookworm-slim\b/);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime).not.toBe(builder);

    // Builder: dependencies from the lockfile, then the same build script, then dev dependencies dropped.
    const runs = builder.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    const indexOf = (re: RegExp) => runs.findIndex((r) => re.test(r));
    expect(indexOf(/\bnpm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(indexOf(/\bnpm ci\b/)).toBeLessThanOrEqual(indexOf(/\bnpm run build\b/));
    expect(runs.join("\n")).toMatch(/\bnpm run build\b[\s\S]*\bnpm prune --omit=dev\b/);
    expect(runs.join("\n")).toMatch(/\bpython3\b[\s\S]*\bmake\b[\s\S]*\bg\+\+/);

    // Every input of the build lands where tsc will look for it: the tsconfig chain, each "include"
    // entry of tsconfig.build.json, every file tsc compiles, and the lockfile for npm ci.
    const buildIndex = builder.instructions.findIndex((i) => i.keyword === "RUN" && /\bnpm run build\b/.test(i.args));
    const buildWorkdir = builder.instructions[buildIndex].workdir;
    const copies = builder.instructions
      .slice(0, buildIndex)
      .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
      .map(parseCopy)
      .filter((c) => c.from === undefined);
    const parsed = parsedBuildConfig();
    const include: string[] = ts.readConfigFile(path.join(ROOT, BUILD_TSCONFIG), ts.sys.readFile).config.include ?? [];
    expect(include.length).toBeGreaterThan(0);
    const needed = [
      "package.json",
      "package-lock.json",
      ...tsconfigChain(BUILD_TSCONFIG),
      ...include.map(normalize),
      ...parsed.fileNames.map((f) => path.relative(ROOT, f).split(path.sep).join("/")),
    ];
    const missing: string[] = [];
    for (const relPath of new Set(needed)) {
      const landed = await landingPlace(relPath, copies);
      if (landed !== path.posix.join(buildWorkdir, relPath)) missing.push(`${relPath} (lands at ${landed ?? "nowhere"})`);
      const ignored = await ignoredBy(relPath);
      if (ignored.length) missing.push(`${relPath} (excluded by .dockerignore: ${ignored.join(", ")})`);
    }
    expect(missing).toEqual([]);

    // The host's node_modules (native modules built for another system) and build output stay out.
    await expect(ignoredBy("node_modules")).resolves.not.toEqual([]);
    await expect(ignoredBy("dist")).resolves.not.toEqual([]);

    // Runtime: the builder's dist and production node_modules at the same relative place, run as
    // the unprivileged node user, with CMD running the very file `npm start` runs.
    const entry = await startEntry();
    expect(cmdOf(runtime)).toEqual(["node", entry]);
    const runtimeWorkdir = runtime.instructions.find((i) => i.keyword === "CMD")!.workdir;
    const runtimeCopies = runtime.instructions.filter((i) => i.keyword === "COPY").map(parseCopy);
    const fromBuilder = (relPath: string) =>
      runtimeCopies.find(
        (c) =>
          c.from === builder.name &&
          c.sources.some((s) => path.posix.resolve(buildWorkdir, s) === path.posix.join(buildWorkdir, relPath)) &&
          path.posix.resolve(c.workdir, c.dest) === path.posix.join(runtimeWorkdir, relPath),
      );
    const outDir = path.relative(ROOT, parsed.options.outDir ?? ROOT).split(path.sep).join("/");
    expect(entry.startsWith(outDir + "/")).toBe(true);
    expect(fromBuilder(outDir)).toBeDefined();
    // The admin CLI (package.json's bin) is compiled into the same output, so the image can run it without ts-node.
    expect(Object.values(pkg.bin ?? {})).toEqual([expect.stringMatching(new RegExp(`^${outDir}/.+\\.js$`))]);
    expect(fromBuilder("node_modules")).toBeDefined();
    expect(fromBuilder("package.json")).toBeDefined();

    const directives = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).map((i) => i.args.trim());
    expect(directives("USER").pop()).toBe("node");
    expect(directives("ENV")).toContain("NODE_ENV=production");
    expect(directives("EXPOSE")).toContain("4000");
    expect(directives("VOLUME").join(" ")).toContain(path.posix.join(runtimeWorkdir, "data"));
    const healthcheck = directives("HEALTHCHECK").pop() ?? "";
    expect(healthcheck).toContain("http://127.0.0.1:4000/healthz");
    expect(healthcheck).toMatch(/CMD \[?"?node\b/);
  });

  test("the Dockerfile builds the pages too: web/ reaches the builder before npm run build, dist/web the runtime", async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.build).toMatch(/\bnpm run build:web\b/);
    expect(pkg.scripts["build:web"]).toMatch(/\bvite build --config web\/vite\.config\.ts\b/);
    const { builder, runtime } = await dockerfile();
    const buildIndex = builder.instructions.findIndex((i) => i.keyword === "RUN" && /\bnpm run build\b/.test(i.args));
    const buildWorkdir = builder.instructions[buildIndex].workdir;
    const copies = builder.instructions
      .slice(0, buildIndex)
      .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
      .map(parseCopy)
      .filter((c) => c.from === undefined);
    const webFiles = await filesUnder("web");
    expect(webFiles).toEqual(expect.arrayContaining(["web/index.html", "web/vite.config.ts"]));
    const missing: string[] = [];
    for (const relPath of webFiles) {
      const landed = await landingPlace(relPath, copies);
      if (landed !== path.posix.join(buildWorkdir, relPath)) missing.push(`${relPath} (lands at ${landed ?? "nowhere"})`);
      const ignored = await ignoredBy(relPath);
      if (ignored.length) missing.push(`${relPath} (excluded by .dockerignore: ${ignored.join(", ")})`);
    }
    expect(missing).toEqual([]);
    // The runtime takes the builder's whole dist/, so dist/web (where the server looks by default) comes along.
    const runtimeWorkdir = runtime.instructions.find((i) => i.keyword === "CMD")!.workdir;
    const distCopy = runtime.instructions
      .filter((i) => i.keyword === "COPY")
      .map(parseCopy)
      .find((c) => c.from === builder.name && c.sources.some((s) => path.posix.resolve(buildWorkdir, s) === path.posix.join(buildWorkdir, "dist")));
    expect(distCopy && path.posix.resolve(distCopy.workdir, distCopy.dest)).toBe(path.posix.join(runtimeWorkdir, "dist"));
  });

  test("the Dockerfile's CMD runs a file the TypeScript build really produces", async () => {
    const { runtime } = await dockerfile();
    const [, entry] = cmdOf(runtime);
    const outDir = path.relative(ROOT, parsedBuildConfig().options.outDir ?? ROOT).split(path.sep).join("/");
    expect(entry.startsWith(outDir + "/")).toBe(true);

    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "deploy-build-"));
    try {
      await expect(execFile("npx", ["tsc", "-p", BUILD_TSCONFIG, "--outDir", tmp], { cwd: ROOT, maxBuffer: 10 * 1024 * 1024 })).resolves.toBeDefined();
      const built = path.join(tmp, entry.slice(outDir.length + 1));
      await expect(fs.stat(built).then((s) => s.isFile())).resolves.toBe(true);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 180_000);
});
