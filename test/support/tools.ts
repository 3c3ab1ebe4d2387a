import { spawnSync } from "node:child_process";

/** The first command of `candidates` that runs `<command> <versionArgs>` successfully. */
export function findTool(candidates: string[][], versionArgs: string[] = ["--version"]): string[] | undefined {
  return candidates.find(([command, ...args]) => spawnSync(command, [...args, ...versionArgs], { stdio: "ignore", timeout: 30_000 }).status === 0);
}

/**
 * Whether tests needing these tools should run. Outside CI a missing tool skips them with a notice
 * printed in jest's output; under CI=true they run (and fail on the missing tool): .ci/run installs it.
 */
export function runsWith(testFile: string, missing: string[], install: string): boolean {
  if (missing.length === 0 || process.env.CI === "true") return true;
  process.stdout.write(`\nNOTICE ${testFile}: skipped, ${missing.join(" and ")} not found (${install}; .ci/run installs it).\n`);
  return false;
}
