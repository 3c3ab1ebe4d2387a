import type { EnvReader } from "./env-reader";

/**
 * The security and reliability settings. Read by loadConfig (./index.ts), so every bad variable
 * is still reported together with the others.
 */
export interface SecurityConfig {
  /** Failed authentications allowed per client IP (and per account for passwords) in one window. */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** Largest number of distinct IPs/accounts tracked; the oldest are forgotten first. */
  authThrottleMaxEntries: number;
  /** Proxies in front of the service whose X-Forwarded-For entries are believed (0: none). */
  trustProxy: number;
  /** Origins allowed to call the API from a browser; empty: no cross-origin access. "*" allows any. */
  corsOrigins: string[];
  graphql: {
    maxDepth: number;
    maxAliases: number;
    maxDirectives: number;
    maxTokens: number;
    maxCost: number;
  };
  /** Database connect timeout: an unreachable database fails a request within about this long. */
  databaseConnectTimeoutMs: number;
}

export function readSecurityConfig(reader: EnvReader): SecurityConfig {
  const { env } = reader;
  const integer = reader.integer.bind(reader);
  const corsOrigins = (env.CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim().replace(/\/$/, ""))
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin === "*") continue;
    if (!/^https?:\/\/[^/\s]+$/i.test(origin)) reader.problem(`CORS_ORIGINS entries must be origins like https://app.example.org (or *), got "${origin}"`);
  }
  const trustRaw = env.TRUST_PROXY?.trim().toLowerCase();
  let trustProxy = 0;
  if (trustRaw === "true" || trustRaw === "yes" || trustRaw === "on") trustProxy = 1;
  else if (trustRaw === "false" || trustRaw === "no" || trustRaw === "off") trustProxy = 0;
  else trustProxy = integer("TRUST_PROXY", 0, 0, 10);

  return {
    authFailureLimit: integer("AUTH_FAILURE_LIMIT", 20, 1, 1_000_000),
    authFailureWindowMs: integer("AUTH_FAILURE_WINDOW_SECONDS", 60, 1, 24 * 3600) * 1000,
    authThrottleMaxEntries: integer("AUTH_THROTTLE_MAX_ENTRIES", 100_000, 100, 10_000_000),
    trustProxy,
    corsOrigins,
    graphql: {
      maxDepth: integer("GRAPHQL_MAX_DEPTH", 8, 2, 100),
      maxAliases: integer("GRAPHQL_MAX_ALIASES", 15, 0, 1000),
      maxDirectives: integer("GRAPHQL_MAX_DIRECTIVES", 10, 0, 1000),
      maxTokens: integer("GRAPHQL_MAX_TOKENS", 1000, 50, 100_000),
      maxCost: integer("GRAPHQL_MAX_COST", 5000, 100, 10_000_000),
    },
    databaseConnectTimeoutMs: integer("DB_CONNECT_TIMEOUT_MS", 3000, 100, 60_000),
  };
}
