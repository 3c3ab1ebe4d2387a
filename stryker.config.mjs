// @ts-check
/**
 * Mutation testing (StrykerJS): `npm run mutate` runs every scope below one after the other,
 * `npm run mutate -- keys` one of them. Each scope mutates one folder (or the revoking methods of
 * the key service) and runs only the test files that exercise it, on SQLite, in this process.
 * See docs/mutation-testing.md for the scores and the surviving mutants.
 */
import fs from "node:fs";

/** Line ranges of the named methods of a class file: Stryker mutates only inside them. */
function methodRanges(file, methods) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  return methods.map((method) => {
    const start = lines.findIndex((line) => new RegExp(`^  (?:private )?(?:async )?${method}[<(]`).test(line));
    if (start < 0) throw new Error(`${file}: no method ${method}`);
    const end = lines.findIndex((line, index) => index > start && line === "  }");
    return `${file}:${start + 1}-${end + 1}`;
  });
}

const SERVICE = "src/services/api-key.service.ts";

export const scopes = {
  auth: {
    mutate: ["src/auth/**/*.ts"],
    tests: [
      "test/auth/password-cost.http.test.ts",
      "test/auth/authentication.http.test.ts",
      "test/auth/sql-per-request.http.test.ts",
      "test/auth/authorization.http.test.ts",
      "test/auth/canonical-email.http.test.ts",
      "test/auth/expiry-boundary.test.ts",
      "test/auth/credentials*.test.ts",
      "test/auth/auth-throttle.test.ts",
      "test/auth/shared-throttle.test.ts",
      "test/auth/shared-throttle.counters.test.ts",
      "test/auth/password-queue.test.ts",
      "test/auth/device-cookies.test.ts",
      "test/auth/password-rehash.http.test.ts",
      "test/auth/throttle-concurrency.http.test.ts",
      "test/resolvers/accounts.test.ts",
      "test/auth/sessions/*.test.ts",
      "test/security/throttle.http.test.ts",
    ],
  },
  keys: {
    mutate: ["src/keys/**/*.ts"],
    tests: ["test/keys/**/*.test.ts", "test/auth/authentication.http.test.ts", "test/auth/sql-per-request.http.test.ts", "test/auth/expiry-boundary.test.ts"],
  },
  revoking: {
    mutate: [
      ...methodRanges(SERVICE, ["revoking", "rotate", "retirePredecessor", "deleteOwn", "revoke", "revokeAll", "revokeWhere"]),
      ...methodRanges("src/services/user.service.ts", ["setActive"]),
    ],
    // Every in-process test file that ends a key through these methods (the child-process
    // instance tests run unmutated code, see docs/mutation-testing.md).
    tests: [
      "test/**/key-cache.http.test.ts",
      "test/resolvers/api-key.resolver.test.ts",
      "test/resolvers/api-key-lifecycle.test.ts",
      "test/resolvers/bulk-revoke-and-audit.test.ts",
      "test/resolvers/audit-event.resolver.test.ts",
      "test/resolvers/my-api-keys.http.test.ts",
      "test/resolvers/total-count-after-revocation.http.test.ts",
      "test/resolvers/revoking-edges.http.test.ts",
      "test/resolvers/user.resolver.test.ts",
      "test/services/key-rotation.http.test.ts",
      "test/services/user-text.http.test.ts",
      "test/auth/authentication.http.test.ts",
      "test/security/concurrency.http.test.ts",
    ],
  },
  /** Where the mutants issue 17 found surviving live: quick enough to run on every change to them. */
  critical: {
    mutate: ["src/auth/auth-checker.ts", ...methodRanges(SERVICE, ["revoking", "deleteOwn", "revokeWhere"]), ...methodRanges("src/keys/revocation-epoch.ts", ["bump", "settled"])],
    tests: ["test/auth/authorization.http.test.ts", "test/**/key-cache.http.test.ts", "test/keys/revocation-epoch.test.ts", "test/resolvers/api-key.resolver.test.ts", "test/resolvers/api-key-lifecycle.test.ts", "test/resolvers/audit-event.resolver.test.ts"],
  },
};

const scopeName = process.env.MUTATE_SCOPE ?? "auth";
const scope = scopes[scopeName];
if (!scope) throw new Error(`MUTATE_SCOPE must be one of ${Object.keys(scopes).join(", ")}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  jest: {
    projectType: "custom",
    configFile: "jest.stryker.config.js",
    config: { testMatch: scope.tests.map((pattern) => `<rootDir>/${pattern}`) },
    enableFindRelatedTests: false,
  },
  coverageAnalysis: "perTest",
  // Code that runs only while a test file starts its server, outside every test, would need the
  // whole scope's tests per mutant; such mutants are reported as Ignored. Code also run inside a
  // test ("hybrid") is still tested, against the tests that reach it.
  ignoreStatic: true,
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  mutate: scope.mutate,
  // Two cores, shared: one type checker and one test runner.
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${scopeName}.html` },
  jsonReporter: { fileName: `reports/mutation/${scopeName}.json` },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
