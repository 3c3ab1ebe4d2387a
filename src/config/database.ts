import path from "node:path";
import type { EnvReader } from "./env-reader";

export type DatabaseConfig =
  | { kind: "sqlite"; path: string } // path ":memory:" for an in-memory database
  | { kind: "mysql"; url: string; host: string; port: number; user: string; password: string; database: string; connectTimeoutMs?: number };

export const DEFAULT_SQLITE_PATH = path.join("data", "external-tool-access.sqlite");

/** DATABASE_URL: sqlite:<path> (the default, embedded) or mysql:// / mariadb://. */
export function readDatabaseConfig(env: EnvReader): DatabaseConfig {
  const value = env.text("DATABASE_URL");
  if (!value) return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
  if (value.startsWith("sqlite:")) {
    const file = value.slice("sqlite:".length).replace(/^\/\//, "");
    if (!file) {
      env.problem('DATABASE_URL "sqlite:" needs a path, e.g. sqlite:./data/app.sqlite or sqlite::memory:');
      return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
    }
    return { kind: "sqlite", path: file };
  }
  if (/^(mysql|mariadb):\/\//.test(value)) return readMysqlUrl(value, env);
  // Do not echo the value: it may hold a database password.
  env.problem("DATABASE_URL must start with sqlite: or mysql:// (or mariadb://)");
  return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
}

function readMysqlUrl(value: string, env: EnvReader): DatabaseConfig {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    env.problem("DATABASE_URL is not a valid mysql:// URL");
    return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!database) env.problem("DATABASE_URL must name a database, e.g. mysql://user:pass@host:3306/apikeys");
  if (!url.hostname) env.problem("DATABASE_URL must name a host");
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
