import type { EnvReader } from "./env-reader";

export interface HttpConfig {
  port: number;
  host: string;
  /** Largest accepted request body; bigger bodies get 413 before any parsing. */
  maxBodyBytes: number;
  /** Introspection and the landing page; on unless NODE_ENV=production. */
  introspection: boolean;
  /** Shown in the WWW-Authenticate challenge. */
  authRealm: string;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /**
   * The built web pages (index.html and assets/), read once at startup. Unset: `dist/web` under
   * the package root (http/static-pages.ts finds it from its own location).
   */
  webDir?: string;
}

export function readHttpConfig(env: EnvReader): HttpConfig {
  const config: HttpConfig = {
    port: env.integer("PORT", 4000, 0, 65535),
    host: env.text("HOST") || "0.0.0.0",
    maxBodyBytes: env.integer("MAX_BODY_BYTES", 100 * 1024, 1024, 50 * 1024 * 1024),
    introspection: env.boolean("INTROSPECTION", env.env.NODE_ENV !== "production"),
    authRealm: env.text("AUTH_REALM") || "External Tool Access",
    metricsToken: env.env.METRICS_TOKEN || undefined,
    webDir: env.text("WEB_DIR") || undefined,
  };
  if (config.metricsToken !== undefined && config.metricsToken.length < 16) env.problem("METRICS_TOKEN must be at least 16 characters"); // never echo the value
  if (/["\\\r\n]/.test(config.authRealm)) env.problem("AUTH_REALM must not contain quotes, backslashes or line breaks");
  return config;
}
