import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLogDestination, createLogger } from "../../src/logger";

const root = path.join(__dirname, "..", "..");

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xta-log-")), "out.log");
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

describe("log destination", () => {
  test("buffered lines reach the file on process.exit, before any flush interval", () => {
    const file = tempFile();
    const script = `
      const { createLogDestination, createLogger } = require("./src/logger");
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
