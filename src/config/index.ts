import { type AdminConfig, readAdminConfig } from "./accounts";
import { type DatabaseConfig, readDatabaseConfig } from "./database";
import { EnvReader } from "./env-reader";
import { type HttpConfig, readHttpConfig } from "./http";
import { type KeysConfig, readKeysConfig } from "./keys";
import { type LoggingConfig, readLoggingConfig } from "./logging";
import { readSecurityConfig, type SecurityConfig } from "./security";

export { describePasswordProblem, isPlausibleEmail, PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from "./accounts";
export { type DatabaseConfig, DEFAULT_SQLITE_PATH } from "./database";
export type { LogLevel } from "./logging";
export type { SecurityConfig } from "./security";

/** The whole configuration: one model per concern, each read by its own reader. */
export type Config = { database: DatabaseConfig } & HttpConfig & LoggingConfig & KeysConfig & AdminConfig & {
  /** Brute-force throttling, GraphQL limits, CORS, proxy trust, database timeouts: ./security.ts. */
  security: SecurityConfig;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads and validates every variable at once, so a bad deployment reports all of its
 * mistakes in one go instead of one per restart. Pure: reads `env` only.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const reader = new EnvReader(env);
  const database = readDatabaseConfig(reader);
  const http = readHttpConfig(reader);
  const admin = readAdminConfig(reader);
  const logging = readLoggingConfig(reader);
  const keys = readKeysConfig(reader);
  const security = readSecurityConfig(reader);
  if (database.kind === "mysql") database.connectTimeoutMs = security.databaseConnectTimeoutMs;
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return { database, ...http, ...admin, ...logging, ...keys, security };
}
