/**
 * jest globalSetup: builds the pages (dist/web) when they are missing or older than their sources
 * in web/, so the browser tests (test/web/*.browser.test.ts) never test a stale build. Done here,
 * once per jest run in the main process, rather than in the browser test files: those run in
 * parallel workers and two builds into the same dist/web would race. Up to date (the usual case,
 * and always after `npm test`, which builds first), it costs a walk over web/ and nothing more.
 */
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..", "..");

function newestChange(entry) {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of fs.readdirSync(entry)) {
    if (name === "node_modules") continue;
    newest = Math.max(newest, newestChange(path.join(entry, name)));
  }
  return newest;
}

module.exports = async function buildWebIfStale() {
  const sources = path.join(root, "web");
  if (!fs.existsSync(sources)) return;
  const index = path.join(root, "dist", "web", "index.html");
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  const inputs = [sources, path.join(root, "package-lock.json")].filter((entry) => fs.existsSync(entry));
  if (built >= Math.max(...inputs.map(newestChange))) return;
  process.stdout.write(`\n${built ? "dist/web is older than web/" : "dist/web is missing"}: npm run build:web\n`);
  const result = spawnSync("npm", ["run", "--silent", "build:web"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) throw new Error(`npm run build:web failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ""})`);
};
