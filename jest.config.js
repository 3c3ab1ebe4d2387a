/** The suite runs twice: once on embedded SQLite, once on the MariaDB/MySQL at TEST_MYSQL_URL. */
const base = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Type checking is `npm run typecheck`'s job; jest only transpiles.
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
};

// These touch no database: running them once is enough.
const databaseFree = ["/test/keys/api-key-format", "/test/http/cookies", "/test/keys/key-cache.test", "/test/auth/credentials", "/test/auth/auth-throttle", "/test/config/", "/test/graphql/contract", "/test/deploy/", "/test/observability/log-destination", "/test/observability/timestamp", "/test/observability/metrics-tally", "/test/http/access-log", "/test/http/operation-names", "/test/bench/icount", "/test/layering", "/test/support/summary-line-reporter"];
// Faults injected between the app and a MySQL server: nothing to inject into on embedded SQLite.
const mariadbOnly = ["/test/db/mariadb/", "/test/operations/mariadb/"];

module.exports = {
  maxWorkers: 2,
  // testTimeout is a global option: inside a project entry jest ignores it (tests got 5 s).
  testTimeout: 30000,
  // Builds dist/web when it is missing or older than web/ (once per run, before any worker starts;
  // the browser tests in test/web/ drive those pages).
  globalSetup: "<rootDir>/test/support/build-web.js",
  reporters: ["default", "<rootDir>/test/support/summary-line-reporter.js"],
  projects: [
    { ...base, displayName: "sqlite", setupFiles: ["<rootDir>/test/support/use-sqlite.ts"], testPathIgnorePatterns: ["/node_modules/", ...mariadbOnly] },
    { ...base, displayName: "mariadb", setupFiles: ["<rootDir>/test/support/use-mariadb.ts"], testPathIgnorePatterns: ["/node_modules/", ...databaseFree] },
  ],
};
