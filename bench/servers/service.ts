/** The real service, built by the runtime main.ts uses, plus a SQL statement counter the bench can read. */
import "reflect-metadata";
import path from "node:path";
import { loadConfig } from "../../src/config";
import { countQueries } from "../../src/db/query-counter";
import { createLogDestination, createLogger } from "../../src/observability/logger";
import { createRuntime } from "../../src/runtime";
import { announce, serveStats } from "./ipc";

(async () => {
  const config = loadConfig();
  // One access-log line per request, buffered as in production, written to a file instead of a pipe nobody drains.
  const logFile = process.env.BENCH_LOG_FILE ?? path.join(process.cwd(), "bench-service.log");
  const logger = createLogger(config.logLevel, createLogDestination(logFile, { bufferBytes: config.logBufferBytes, flushIntervalMs: config.logFlushIntervalMs }));
  const runtime = await createRuntime(config, { logger });
  const counter = countQueries(runtime.dataSource);
  const { port } = await (await runtime.serve()).listen(0, "127.0.0.1");
  serveStats(() => counter.snapshot());
  announce(port);
})().catch((error) => {
  process.stderr.write(`bench service failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
