import type { EnvReader } from "./env-reader";

/** Login sessions, their cookies and device cookies. Read by loadConfig with the other settings. */
export interface SessionConfig {
  /** SESSION_IDLE_TIMEOUT_SECONDS: a session unused this long has ended. */
  idleTimeoutMs: number;
  /** SESSION_MAX_LIFETIME_SECONDS: a session ends this long after login, however busy. */
  maxLifetimeMs: number;
  /** COOKIE_SECURE: cookies Secure with the `__Host-` prefix on every request (behind TLS). */
  cookieSecure: boolean;
  /** DEVICE_COOKIE_DAYS: how long a device cookie vouches for a browser that logged in. */
  deviceCookieLifetimeMs: number;
}

export function readSessionConfig(reader: EnvReader): SessionConfig {
  const config: SessionConfig = {
    idleTimeoutMs: reader.integer("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60, 1, 30 * 24 * 3600) * 1000,
    maxLifetimeMs: reader.integer("SESSION_MAX_LIFETIME_SECONDS", 12 * 3600, 1, 365 * 24 * 3600) * 1000,
    cookieSecure: reader.boolean("COOKIE_SECURE", false),
    deviceCookieLifetimeMs: reader.integer("DEVICE_COOKIE_DAYS", 180, 1, 3650) * 24 * 3600_000,
  };
  if (config.idleTimeoutMs > config.maxLifetimeMs) reader.problem("SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_MAX_LIFETIME_SECONDS");
  return config;
}

/**
 * How stale sessions.last_seen_at may be before a use is written again: a tenth of the idle
 * timeout, at most a minute (as lastUsedAt), so another instance reading the row sees a session
 * in use long before it would look idle.
 */
export function sessionActivityIntervalMs(config: SessionConfig): number {
  return Math.min(60_000, Math.floor(config.idleTimeoutMs / 10));
}
