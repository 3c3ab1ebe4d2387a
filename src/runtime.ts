import "reflect-metadata";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import type { Config } from "./config";
import { createDataSource } from "./db/data-source";
import { type App, createApp } from "./http/app";
import { createLogDestination, createLogger } from "./observability/logger";
import { createServices, type Services } from "./services";

export interface RuntimeOptions {
  /** Default: config.logLevel to stdout, buffered as config.logBufferBytes says. */
  logger?: Logger;
  /** An open DataSource of the caller's (tests), left open by stop(). Default: one from config.database, migrated, closed by stop(). */
  dataSource?: DataSource;
  /** bcrypt cost of new passwords (tests lower it); default the production cost. */
  bcryptCost?: number;
  /** The services' clock (Services.clock): login sessions' lifetimes and the brute-force windows; default Date.now. */
  clock?: () => number;
  /** The built pages' folder (see AppDependencies.webDir); default config.webDir, else dist/web. */
  webDir?: string;
}

/** The one place that assembles the service, for the server, the admin CLI, the benchmarks and the tests. */
export interface Runtime {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  services: Services;
  /** Starts the background jobs and builds the HTTP app (call listen() on it). At most once. */
  serve(): Promise<App>;
  /** Stops the app and the jobs (writing what they hold), then closes the DataSource if the runtime opened it. */
  stop(): Promise<void>;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel, createLogDestination(1, { bufferBytes: config.logBufferBytes, flushIntervalMs: config.logFlushIntervalMs }));
  const dataSource = options.dataSource ?? (await openDatabase(config, logger));
  const services = createServices(dataSource, config, logger, { bcryptCost: options.bcryptCost, clock: options.clock });
  let app: App | null = null;
  let stopping: Promise<void> | null = null;
  return {
    config,
    logger,
    dataSource,
    services,
    async serve() {
      if (app) throw new Error("the runtime already serves");
      await services.start();
      app = await createApp({ config, dataSource, logger, services, webDir: options.webDir });
      return app;
    },
    stop() {
      stopping ??= (async () => {
        await app?.stop();
        await services.stop();
        if (!options.dataSource && dataSource.isInitialized) await dataSource.destroy();
      })();
      return stopping;
    },
  };
}

/** Opens the configured database and applies pending migrations; closes it again if that fails. */
async function openDatabase(config: Config, logger: Logger): Promise<DataSource> {
  const dataSource = createDataSource(config.database);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: "each" });
    if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, "applied database migrations");
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}
