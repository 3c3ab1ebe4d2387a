/** The real service, built as main.ts builds it, plus a SQL statement counter the bench can read. */
import "reflect-metadata";
import path from "node:path";
import { loadConfig } from "../../src/config";
import { createDataSource } from "../../src/db/data-source";
import { countQueries } from "../../src/db/query-counter";
import { createLogDestination, createLogger } from "../../src/logger";
import { createApp } from "../../src/server";
import { createServices } from "../../src/services";
import { announce, serveStats } from "./ipc";

(async () => {
  const config = loadConfig();
  // One access-log line per request, buffered as in production, written to a file instead of a pipe nobody drains.
  const logFile = process.env.BENCH_LOG_FILE ?? path.join(process.cwd(), "bench-service.log");
  const logger = createLogger(config.logLevel, createLogDestination(logFile, { bufferBytes: config.logBufferBytes, flushIntervalMs: config.logFlushIntervalMs }));
  const dataSource = createDataSource(config.database);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  const counter = countQueries(dataSource);
  const services = createServices(dataSource, config, logger);
  const app = await createApp({ config, dataSource, logger, services });
  const { port } = await app.listen(0, "127.0.0.1");
  serveStats(() => counter.snapshot());
  announce(port);
})().catch((error) => {
  process.stderr.write(`bench service failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
