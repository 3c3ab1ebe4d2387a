import { ConfigError, DEFAULT_SQLITE_PATH, loadConfig } from "../../src/config";

describe("configuration", () => {
  test("no variables: embedded SQLite on port 4000 of every interface", () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: "sqlite", path: DEFAULT_SQLITE_PATH });
    expect(config).toMatchObject({ port: 4000, host: "0.0.0.0", logLevel: "info", introspection: true });
  });

  test("sqlite: URLs name a file or memory", () => {
    expect(loadConfig({ DATABASE_URL: "sqlite::memory:" }).database).toEqual({ kind: "sqlite", path: ":memory:" });
    expect(loadConfig({ DATABASE_URL: "sqlite:./x/y.sqlite" }).database).toEqual({ kind: "sqlite", path: "./x/y.sqlite" });
  });

  test("mysql:// URL: host, port, credentials and database", () => {
    expect(loadConfig({ DATABASE_URL: "mysql://u%40x:p%3Ass@db.local:3307/keys" }).database).toMatchObject({
      kind: "mysql",
      host: "db.local",
      port: 3307,
      user: "u@x",
      password: "p:ss",
      database: "keys",
    });
  });

  test("WEB_DIR names the built pages' folder; unset leaves the default (dist/web) to the static route", () => {
    expect(loadConfig({ WEB_DIR: "/srv/xta/web" }).webDir).toBe("/srv/xta/web");
    expect(loadConfig({}).webDir).toBeUndefined();
    expect(loadConfig({ WEB_DIR: "" }).webDir).toBeUndefined();
  });

  test("production turns introspection off unless asked", () => {
    expect(loadConfig({ NODE_ENV: "production" }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", INTROSPECTION: "true" }).introspection).toBe(true);
  });

  test("every bad variable is reported at once", () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: "eighty", DATABASE_URL: "postgres://secret@x/db", LOG_LEVEL: "loud", ADMIN_EMAIL: "nope", MAX_BODY_BYTES: "1" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/PORT/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL/);
    expect(problems.join("\n")).toMatch(/ADMIN_EMAIL/);
    expect(problems.join("\n")).toMatch(/MAX_BODY_BYTES/);
  });

  test("problems never echo a secret", () => {
    expect(() => loadConfig({ DATABASE_URL: "pg://user:hunter2@db/x" })).toThrow(ConfigError);
    try {
      loadConfig({ DATABASE_URL: "pg://user:hunter2@db/x" });
    } catch (error) {
      expect(String((error as Error).message)).not.toMatch(/hunter2/);
    }
  });

  test("a negative number is named as such: non-negative whole numbers only", () => {
    expect(() => loadConfig({ KEY_CACHE_WINDOW_MS: "-5" })).toThrow('KEY_CACHE_WINDOW_MS must be a non-negative whole number, got "-5"');
  });

  test("ADMIN_PASSWORD is not judged here: the password rules apply when it creates the first admin", () => {
    expect(loadConfig({ ADMIN_PASSWORD: "short" }).adminPassword).toBe("short");
  });
});
