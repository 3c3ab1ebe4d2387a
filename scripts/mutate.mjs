/**
 * `npm run mutate [scope...]`: StrykerJS on each scope of stryker.config.mjs in turn (all by
 * default), reports in reports/mutation/. Slow (minutes per scope): not part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { scopes } from "../stryker.config.mjs";

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in scopes));
if (unknown.length) {
  process.stderr.write(`unknown scope(s): ${unknown.join(", ")}; known: ${Object.keys(scopes).join(", ")}\n`);
  process.exit(2);
}
let failed = false;
for (const scope of requested.length ? requested : Object.keys(scopes)) {
  process.stdout.write(`\n== mutation testing: ${scope} ==\n`);
  const run = spawnSync("npx", ["stryker", "run", "stryker.config.mjs"], { stdio: "inherit", env: { ...process.env, MUTATE_SCOPE: scope } });
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
