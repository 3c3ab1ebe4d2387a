import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLogDestination, createLogger } from "../../src/observability/logger";

const root = path.join(__dirname, "..", "..");

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xta-log-"));
  tempDirs.push(dir);
  return path.join(dir, "out.log");
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

describe("log destination", () => {
  test("buffered lines reach the file on process.exit, before any flush interval", () => {
    const file = tempFile();
    const script = `
      const { createLogDestination, createLogger } = require("./src/observability/logger");
      const logger = createLogger("info", createLogDestination(${JSON.stringify(file)}, { bufferBytes: 8192, flushIntervalMs: 60000 }));
      for (let i = 0; i < 3; i++) logger.info({ i }, "line");
      process.exit(0);`;
    execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: root, stdio: "pipe" });
    expect(lines(file).map((line) => JSON.parse(line).i)).toEqual([0, 1, 2]);
  });

  test("a quiet server's buffered line is written within the flush interval", async () => {
    const file = tempFile();
    const destination = createLogDestination(file, { bufferBytes: 8192, flushIntervalMs: 20 });
    createLogger("info", destination).info({ quiet: true }, "line");
    expect(lines(file)).toHaveLength(0); // held in the buffer: 8,192 bytes were not reached
    await expect(waitFor(() => lines(file).length === 1, 2000)).resolves.toBe(true);
    (destination as unknown as { end(): void }).end();
  });

  test("a full buffer is written at once, lines in order, without waiting for the interval", async () => {
    const file = tempFile();
    const destination = createLogDestination(file, { bufferBytes: 2000, flushIntervalMs: 60000 });
    const logger = createLogger("info", destination);
    for (let i = 0; i < 100; i++) logger.info({ i }, "line");
    // About 100 lines of ~90 bytes: every full batch is on its way, at most one partial batch waits.
    await expect(waitFor(() => lines(file).length >= 80, 2000)).resolves.toBe(true);
    expect(lines(file).length).toBeLessThan(100);
    (destination as unknown as { end(): void }).end();
    await expect(waitFor(() => lines(file).length === 100, 2000)).resolves.toBe(true);
    expect(lines(file).map((line) => JSON.parse(line).i)).toEqual([...Array(100).keys()]);
  });

  test("a log sink that refuses writes: lines are dropped with one warning, the process carries on", () => {
    const file = tempFile();
    fs.writeFileSync(file, "");
    const script = `
      const fs = require("fs");
      const { createLogDestination, createLogger } = require("./src/observability/logger");
      const readOnly = fs.openSync(${JSON.stringify(file)}, "r");
      const logger = createLogger("info", createLogDestination(readOnly, { bufferBytes: 10, flushIntervalMs: 60000 }));
      for (let i = 0; i < 5; i++) logger.info({ i }, "line");
      setTimeout(() => { for (let i = 0; i < 5; i++) logger.info({ i }, "line"); console.log("still running"); }, 200);`;
    const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("still running");
    expect(run.stderr.match(/log lines dropped: EBADF/g)).toHaveLength(1);
    expect(lines(file)).toHaveLength(0);
  });

  test("LOG_BUFFER_BYTES=0: every line is written before logger.info returns", () => {
    const file = tempFile();
    const destination = createLogDestination(file, { bufferBytes: 0, flushIntervalMs: 1000 });
    const logger = createLogger("info", destination);
    logger.info({ n: 1 }, "line");
    expect(lines(file)).toHaveLength(1);
    (destination as unknown as { end(): void }).end();
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}
