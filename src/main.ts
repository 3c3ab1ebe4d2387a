import "reflect-metadata";
import { ConfigError, loadConfig } from "./config";
import { createDataSource } from "./db/data-source";
import { createLogDestination, createLogger } from "./logger";
import { createApp } from "./server";
import { createServices } from "./services";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, createLogDestination(1, { bufferBytes: config.logBufferBytes, flushIntervalMs: config.logFlushIntervalMs }));
  const dataSource = createDataSource(config.database);
  await dataSource.initialize();
  const applied = await dataSource.runMigrations({ transaction: "each" });
  if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, "applied database migrations");

  const services = createServices(dataSource, config, logger);
  const initialAdmin = await services.users.ensureInitialAdmin(config.adminEmail, config.adminPassword);
  if (initialAdmin.created) {
    logger.info({ userId: initialAdmin.user.id, email: initialAdmin.user.email }, "created the first site admin");
    if (initialAdmin.generatedPassword) {
      // Shown once, on the console only, never through the logger.
      process.stdout.write(
        `\n  First start: created site admin ${initialAdmin.user.email}\n  Password (shown only this once): ${initialAdmin.generatedPassword}\n\n`,
      );
    }
  }

  const app = await createApp({ config, dataSource, logger, services });
  const { url } = await app.listen();
  logger.info({ url, database: config.database.kind }, "external tool access service ready");

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down");
    try {
      await app.stop();
      await dataSource.destroy();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "unclean shutdown");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
