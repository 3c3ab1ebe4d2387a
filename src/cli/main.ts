#!/usr/bin/env node
import path from "node:path";
import { runCli } from "./admin-cli";

/** Usage lines show the command the user ran: `npm run admin --` in a checkout, the compiled file in an image. */
function programName(): string {
  if (process.env.npm_lifecycle_event === "admin") return "npm run admin --";
  const script = process.argv[1] ?? "main.js";
  return path.basename(script) === "main.js" ? `node ${path.relative(process.cwd(), script) || script}` : path.basename(script);
}

// `... list-keys | head`: the reader went away; that is not an error of ours.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, program: programName() })
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`Failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
