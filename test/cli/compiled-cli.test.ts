/**
 * The admin CLI as the production image runs it: the output of the real build (tsc -p
 * tsconfig.build.json), laid out like the image (dist/ beside node_modules/), run with plain node
 * and refused any devDependency (the image prunes them: no ts-node, no typescript).
 */
import { execFile as execFileCallback } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { basic, startTestApp, type TestApp } from "../support/app";
import { runProcess } from "../support/cli";

const execFile = promisify(execFileCallback);
const ROOT = path.resolve(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/**
 * Packages production cannot count on: every copy in the lockfile is dev (removed by `npm prune
 * --omit=dev`) or devOptional (an optional peer of a production package, like typeorm's ts-node).
 */
function devOnlyPackages(): string[] {
  const packages: Record<string, { dev?: boolean; devOptional?: boolean }> = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")).packages;
  const isDev = new Map<string, boolean>();
  for (const [location, entry] of Object.entries(packages)) {
    if (!location) continue;
    const name = location.slice(location.lastIndexOf("node_modules/") + "node_modules/".length);
    isDev.set(name, (isDev.get(name) ?? true) && (entry.dev === true || entry.devOptional === true));
  }
  return [...isDev].filter(([, dev]) => dev).map(([name]) => name);
}
jest.setTimeout(240_000);

/** Preloaded into the CLI: any require of a dev-only package throws, as it would after `npm prune --omit=dev`. */
const NO_DEV_DEPENDENCIES = `
const Module = require("node:module");
const dev = new Set(${JSON.stringify(devOnlyPackages())});
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const name = request.startsWith("@") ? request.split("/").slice(0, 2).join("/") : request.split("/")[0];
  if (dev.has(name)) throw new Error("devDependency " + name + " required at run time");
  return resolve.call(this, request, ...rest);
};
`;

describe("admin CLI from the compiled build (as in the production image)", () => {
  let app: TestApp;
  let outDir: string;
  let entry: string;

  beforeAll(async () => {
    // Inside the repository, so node finds node_modules by walking up exactly as /app/dist does in the image.
    outDir = fs.mkdtempSync(path.join(ROOT, ".test-dist-"));
    fs.writeFileSync(path.join(outDir, "no-dev-dependencies.js"), NO_DEV_DEPENDENCIES);
    await execFile(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", outDir], { cwd: ROOT, maxBuffer: 10 * 1024 * 1024 });
    // package.json's bin is the file that lands under dist/: the same file, here under outDir.
    const bin: string = pkg.bin["external-tool-access-admin"];
    expect(bin).toMatch(/^dist\//);
    entry = path.join(outDir, bin.slice("dist/".length));
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  const compiledCli = (args: string[], input = "") =>
    runProcess(process.execPath, ["-r", path.join(outDir, "no-dev-dependencies.js"), entry, ...args], {
      input,
      cwd: outDir,
      env: { DATABASE_URL: app.db.url, NODE_ENV: "production", NODE_PATH: "", NODE_OPTIONS: "" },
    });

  test("the bin file starts with a node shebang, so `external-tool-access-admin` runs it", () => {
    expect(fs.readFileSync(entry, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  test("creates a user who can log in, and changes settings, without any devDependency", async () => {
    const password = "compiled-cli-pass-42";
    app.secrets.add(password);
    const created = await compiledCli(["create-user", "ops@example.org", "--admin"], `${password}\n`);
    expect([created.code, created.stderr]).toEqual([0, ""]);
    expect(created.stdout).toMatch(/Created user #\d+ ops@example\.org \(site admin\)/);
    expect((await app.graphql("{ me { email isAdmin } }", {}, basic("ops@example.org", password))).body.data?.me).toEqual({ email: "ops@example.org", isAdmin: true });

    const settings = await compiledCli(["settings", "--enable-api-keys"]);
    expect(settings.code).toBe(0);
    expect(settings.stdout).toMatch(/API keys enabled:\s+yes/);
    expect(created.stdout + settings.stdout).not.toContain(password);
  });

  test("usage names the command as it was run, not npm run admin", async () => {
    const run = await compiledCli(["help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: node ${path.relative(outDir, entry)} <command>`);
  });

  test("the guard itself: requiring a devDependency fails", async () => {
    expect(devOnlyPackages()).toEqual(expect.arrayContaining(["ts-node", "typescript", "jest"]));
    expect(devOnlyPackages()).not.toContain("semver"); // dev for us, but type-graphql needs it at run time
    const run = await runProcess(process.execPath, ["-r", path.join(outDir, "no-dev-dependencies.js"), "-e", "require('ts-node')"], { cwd: outDir, env: { NODE_PATH: "" } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("devDependency ts-node required at run time");
  });
});
