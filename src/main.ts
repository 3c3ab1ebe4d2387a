import "reflect-metadata";
import { type Config, ConfigError, loadConfig } from "./config";
import { createRuntime, type Runtime } from "./runtime";

async function main(): Promise<void> {
  const config = readConfigOrExit();
  const runtime = await createRuntime(config);
  const { logger, services } = runtime;
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

  const app = await runtime.serve();
  const { url } = await app.listen();
  logger.info({ url, database: config.database.kind }, "external tool access service ready");
  stopOnSignals(runtime);
}

function readConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** SIGTERM/SIGINT: stop accepting, let in-flight requests finish, write what the jobs hold, close the pool, exit 0. */
function stopOnSignals(runtime: Runtime): void {
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    runtime.logger.info({ signal }, "shutting down");
    try {
      await runtime.stop();
      process.exit(0);
    } catch (error) {
      runtime.logger.error({ err: error }, "unclean shutdown");
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
