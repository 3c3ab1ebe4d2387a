/**
 * The jest setup `npm run mutate` (stryker.config.mjs) runs mutants against: one database
 * (SQLite) and no `projects`. Each mutation scope sets its own testMatch.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  setupFiles: ["<rootDir>/test/support/use-sqlite.ts"],
  testTimeout: 30000,
};
