/** The suite runs twice: once on embedded SQLite, once on the MariaDB/MySQL at TEST_MYSQL_URL. */
const base = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Type checking is `npm run typecheck`'s job; jest only transpiles.
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
};

// These touch no database: running them once is enough.
const databaseFree = ["/test/auth/api-key-format", "/test/auth/credentials", "/test/config", "/test/schema/", "/test/deploy/"];

module.exports = {
  maxWorkers: 2,
  testTimeout: 30000,
  reporters: ["default", "<rootDir>/test/support/summary-line-reporter.js"],
  projects: [
    { ...base, displayName: "sqlite", setupFiles: ["<rootDir>/test/support/use-sqlite.ts"] },
    { ...base, displayName: "mariadb", setupFiles: ["<rootDir>/test/support/use-mariadb.ts"], testPathIgnorePatterns: ["/node_modules/", ...databaseFree] },
  ],
};
