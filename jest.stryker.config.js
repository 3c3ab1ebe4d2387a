/**
 * The jest setup `npm run mutate` (stryker.config.mjs) runs mutants against: one database and no
 * `projects`. SQLite by default; MUTATE_DB=mariadb runs on the MariaDB at TEST_MYSQL_URL, which
 * reaches the MySQL-only branches (the revocation poll on the pool, the shared throttle's upsert).
 * Each mutation scope sets its own testMatch.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  setupFiles: [process.env.MUTATE_DB === "mariadb" ? "<rootDir>/test/support/use-mariadb.ts" : "<rootDir>/test/support/use-sqlite.ts"],
  testTimeout: 30000,
};
