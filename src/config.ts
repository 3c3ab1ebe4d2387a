import path from "node:path";
import { loadSecurityConfig, type SecurityConfig } from "./security/config";
import { readSessionConfig, type SessionConfig } from "./config/sessions";

export type DatabaseConfig =
  | { kind: "sqlite"; path: string } // path ":memory:" for an in-memory database
  | { kind: "mysql"; url: string; host: string; port: number; user: string; password: string; database: string; connectTimeoutMs?: number };

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface Config {
  database: DatabaseConfig;
  port: number;
  host: string;
  adminEmail?: string;
  adminPassword?: string;
  logLevel: LogLevel;
  /**
   * Log lines are collected up to this many bytes before one write (0: every line is written
   * synchronously as it is logged). Buffered lines are flushed at least every logFlushIntervalMs
   * and on exit.
   */
  logBufferBytes: number;
  logFlushIntervalMs: number;
  /** Largest accepted request body; bigger bodies get 413 before any parsing. */
  maxBodyBytes: number;
  /** How long a key's lastUsedAt may lag behind real use. */
  lastUsedMinIntervalMs: number;
  /** How often pending lastUsedAt updates are written. */
  lastUsedFlushIntervalMs: number;
  /** Introspection and the landing page; on unless NODE_ENV=production. */
  introspection: boolean;
  /** Shown in the WWW-Authenticate challenge. */
  authRealm: string;
  /** How often the server purges expired keys past their retention; 0 disables the job. */
  purgeIntervalMs: number;
  /**
   * How long one poll of the revocation generation vouches for cached key lookups; revocations
   * wait this long before they return. 0 turns the cache off. Same value on every instance.
   */
  keyCacheWindowMs: number;
  keyCacheMaxEntries: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Brute-force throttling, GraphQL limits, CORS, proxy trust, database timeouts: src/security/config.ts. */
  security: SecurityConfig;
  /** Login sessions, cookies, device cookies: src/config/sessions.ts. */
  sessions: SessionConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
export const DEFAULT_SQLITE_PATH = path.join("data", "external-tool-access.sqlite");

/**
 * Reads and validates every variable at once, so a bad deployment reports all of its
 * mistakes in one go instead of one per restart.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw.trim());
    if (value < min || value > max) problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return value;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${env[name]}"`);
    return fallback;
  };

  const database = parseDatabaseUrl(env.DATABASE_URL, problems);
  const port = integer("PORT", 4000, 0, 65535);
  const host = env.HOST?.trim() || "0.0.0.0";

  const adminEmail = env.ADMIN_EMAIL?.trim() || undefined;
  const adminPassword = env.ADMIN_PASSWORD || undefined;
  if (adminEmail && !isPlausibleEmail(adminEmail)) problems.push(`ADMIN_EMAIL is not an email address: "${adminEmail}"`);
  if (adminPassword !== undefined) {
    const passwordProblem = describePasswordProblem(adminPassword);
    if (passwordProblem) problems.push(`ADMIN_PASSWORD ${passwordProblem}`); // never echo the value
  }

  const logLevelRaw = (env.LOG_LEVEL?.trim().toLowerCase() || "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevelRaw)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.LOG_LEVEL}"`);

  const config: Config = {
    database,
    port,
    host,
    adminEmail,
    adminPassword,
    logLevel: LOG_LEVELS.includes(logLevelRaw) ? logLevelRaw : "info",
    logBufferBytes: integer("LOG_BUFFER_BYTES", 4096, 0, 16_000),
    logFlushIntervalMs: integer("LOG_FLUSH_INTERVAL_MS", 1000, 10, 60_000),
    maxBodyBytes: integer("MAX_BODY_BYTES", 100 * 1024, 1024, 50 * 1024 * 1024),
    lastUsedMinIntervalMs: integer("LAST_USED_MIN_INTERVAL_MS", 60_000, 0, 24 * 3600_000),
    lastUsedFlushIntervalMs: integer("LAST_USED_FLUSH_INTERVAL_MS", 10_000, 10, 3600_000),
    introspection: boolean("INTROSPECTION", env.NODE_ENV !== "production"),
    authRealm: env.AUTH_REALM?.trim() || "External Tool Access",
    purgeIntervalMs: integer("PURGE_INTERVAL_MS", 3600_000, 0, 7 * 24 * 3600_000),
    keyCacheWindowMs: integer("KEY_CACHE_WINDOW_MS", 250, 0, 60_000),
    keyCacheMaxEntries: integer("KEY_CACHE_MAX_ENTRIES", 10_000, 1, 10_000_000),
    metricsToken: env.METRICS_TOKEN || undefined,
    security: loadSecurityConfig(env, integer, problems),
    sessions: readSessionConfig({ integer, boolean, problem: (message) => problems.push(message) }),
  };
  if (config.purgeIntervalMs > 0 && config.purgeIntervalMs < 1000) problems.push("PURGE_INTERVAL_MS must be 0 (off) or at least 1000");
  if (config.keyCacheWindowMs > 0 && config.keyCacheWindowMs < 20) problems.push("KEY_CACHE_WINDOW_MS must be 0 (off) or at least 20");
  if (config.metricsToken !== undefined && config.metricsToken.length < 16) problems.push("METRICS_TOKEN must be at least 16 characters"); // never echo the value
  if (database.kind === "mysql") database.connectTimeoutMs = config.security.databaseConnectTimeoutMs;
  if (/["\\\r\n]/.test(config.authRealm)) problems.push("AUTH_REALM must not contain quotes, backslashes or line breaks");

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function parseDatabaseUrl(raw: string | undefined, problems: string[]): DatabaseConfig {
  const value = raw?.trim();
  if (!value) return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
  if (value.startsWith("sqlite:")) {
    const file = value.slice("sqlite:".length).replace(/^\/\//, "");
    if (!file) {
      problems.push('DATABASE_URL "sqlite:" needs a path, e.g. sqlite:./data/app.sqlite or sqlite::memory:');
      return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
    }
    return { kind: "sqlite", path: file };
  }
  if (/^(mysql|mariadb):\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      problems.push("DATABASE_URL is not a valid mysql:// URL");
      return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
    if (!database) problems.push("DATABASE_URL must name a database, e.g. mysql://user:pass@host:3306/apikeys");
    if (!url.hostname) problems.push("DATABASE_URL must name a host");
    return {
      kind: "mysql",
      url: value,
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username) || "root",
      password: decodeURIComponent(url.password),
      database,
    };
  }
  // Do not echo the value: it may hold a database password.
  problems.push("DATABASE_URL must start with sqlite: or mysql:// (or mariadb://)");
  return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
}

export function isPlausibleEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

export const PASSWORD_MIN_LENGTH = 8;
/** bcrypt reads only the first 72 bytes; longer passwords would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;

export function describePasswordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) return `must be at most ${PASSWORD_MAX_BYTES} bytes`;
  return null;
}
