import { ConfigError, loadConfig } from "../../src/config";
import { isDatabaseUnavailable } from "../../src/db/database-faults";

describe("security settings", () => {
  test("defaults: 20 failures a minute, no proxy trusted, no CORS origin, limits on", () => {
    const { security } = loadConfig({});
    expect(security).toMatchObject({ authFailureLimit: 20, authFailureWindowMs: 60_000, trustProxy: 0, corsOrigins: [], databaseConnectTimeoutMs: 3000 });
    expect(security.graphql).toEqual({ maxDepth: 8, maxAliases: 15, maxDirectives: 10, maxTokens: 1000, maxCost: 5000 });
  });

  test("values are read and normalised", () => {
    const { security, database } = loadConfig({ AUTH_FAILURE_LIMIT: "5", AUTH_FAILURE_WINDOW_SECONDS: "10", TRUST_PROXY: "true", CORS_ORIGINS: "https://a.example, https://b.example/", DATABASE_URL: "mysql://u:p@db:3306/x", DB_CONNECT_TIMEOUT_MS: "1500" });
    expect(security).toMatchObject({ authFailureLimit: 5, authFailureWindowMs: 10_000, trustProxy: 1, corsOrigins: ["https://a.example", "https://b.example"] });
    expect(database).toMatchObject({ kind: "mysql", connectTimeoutMs: 1500 });
  });

  test("bad values are all reported at once, with the other variables' problems", () => {
    try {
      loadConfig({ AUTH_FAILURE_LIMIT: "0", TRUST_PROXY: "maybe", CORS_ORIGINS: "not an origin", GRAPHQL_MAX_DEPTH: "x", PORT: "99999" });
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      for (const name of ["AUTH_FAILURE_LIMIT", "TRUST_PROXY", "CORS_ORIGINS", "GRAPHQL_MAX_DEPTH", "PORT"]) expect(problems).toContain(name);
    }
  });
});

describe("isDatabaseUnavailable", () => {
  test("connection-level failures, however wrapped", () => {
    expect(isDatabaseUnavailable({ code: "ECONNREFUSED", fatal: true })).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("x"), { driverError: { code: "PROTOCOL_CONNECTION_LOST" } }))).toBe(true);
    expect(isDatabaseUnavailable({ originalError: { thrownValue: { code: "ETIMEDOUT" } } })).toBe(true);
    expect(isDatabaseUnavailable(new Error("Pool is closed."))).toBe(true);
    expect(isDatabaseUnavailable({ code: "SQLITE_BUSY" })).toBe(true);
  });

  test("ordinary errors are not", () => {
    expect(isDatabaseUnavailable(new Error("duplicate entry"))).toBe(false);
    expect(isDatabaseUnavailable({ code: "ER_DUP_ENTRY" })).toBe(false);
    expect(isDatabaseUnavailable({ code: "SQLITE_CONSTRAINT_UNIQUE" })).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    const loop: Record<string, unknown> = {};
    loop.cause = loop;
    expect(isDatabaseUnavailable(loop)).toBe(false);
  });
});
