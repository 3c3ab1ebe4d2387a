import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");

/** Runs jest on the fixture files alone, with the summary line reporter as the only reporter. */
async function summaryLine(): Promise<{ line: string; also: string; exitCode: number }> {
  const config = {
    rootDir: path.join(__dirname, "reporter-fixtures"),
    testMatch: ["**/*.fixture.js"],
    testEnvironment: "node",
    transform: {},
    reporters: [path.join(__dirname, "summary-line-reporter.js")],
  };
  const result = await run(process.execPath, [path.join(ROOT, "node_modules/jest/bin/jest.js"), "--config", JSON.stringify(config), "--ci", "--maxWorkers=1"], { cwd: ROOT, timeout: 60_000 }).then(
    ({ stdout }) => ({ stdout, code: 0 }),
    (error: { stdout: string; code: number }) => ({ stdout: error.stdout, code: error.code }),
  );
  const lines = result.stdout.trim().split("\n");
  const at = lines.findIndex((text) => /^\d+ passed, \d+ failed, \d+ skipped$/.test(text));
  return { line: lines[at], also: lines.slice(at + 1).join("\n"), exitCode: result.code };
}

describe("summary line reporter", () => {
  test("counts failures outside tests (afterAll checks, files that do not load) as failures and names their files", async () => {
    const { line, also, exitCode } = await summaryLine();
    // 3 passing tests; failed: 2 tests + 3 files failing outside their tests (after all, to load, both).
    expect(line).toBe("3 passed, 5 failed, 1 skipped");
    expect(also).toMatch(/^failed outside their tests: /);
    for (const file of ["fails-after-all.fixture.js", "fails-to-load.fixture.js", "fails-a-test-and-after-all.fixture.js"]) expect(also).toContain(file);
    expect(also).not.toContain("passes.fixture.js");
    expect(exitCode).toBe(1);
  });
});
