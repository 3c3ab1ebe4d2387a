import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchOptions, runBench } from "../../bench/run";
import { runSoak, soakOptions } from "../../bench/soak";
import { testDatabaseKind } from "../support/database";

/** One scenario per order and filter of the admin grid (and a few combinations). */
const ADMIN_LISTS = [
  "admin-list-first",
  "admin-list-deep",
  "admin-list-created-asc",
  "admin-list-last-used",
  "admin-list-last-used-nulls",
  "admin-list-expires",
  "admin-list-expires-nulls",
  "admin-list-owner",
  "admin-list-description",
  "admin-list-description-none",
  "admin-list-expired",
  "admin-list-unexpired",
  "admin-list-unused",
  "admin-list-created-before",
  "admin-list-expired-by-expiry",
  "admin-list-unused-by-last-use",
  "admin-list-owner-last-used",
  "admin-list-owner-unexpired-expires",
];

/** Every scenario of a full run. */
const SCENARIOS = [...ADMIN_LISTS, "anonymous", "apikey-1M", "apikey-1M-nocache", "apikey-basic", "apikey-header", "apikey-nocache", "bad-keys-checksum", "bad-keys-revoked", "bad-keys-unknown", "baseline-apollo", "baseline-http", "apollo-lean", "cookie-me", "login-unknown-email", "login-wrong-password", "naive-bcrypt-keys", "password-basic"];

/**
 * Smoke runs of `npm run bench` and `npm run soak` at tiny sizes, on this project's database, so
 * neither script rots. They assert what the scripts must get right, never a speed.
 */
describe("benchmark and soak scripts (smoke)", () => {
  const db = testDatabaseKind();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "xta-bench-smoke-"));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test("bench: every scenario answers as expected, at most one SELECT per key request, none for a broken checksum", async () => {
    const options = {
      ...benchOptions(["--db", db, "--duration", "1", "--rounds", "1", "--warmup", "0", "--big-keys", "3000", "--revoke-keys", "300", "--keys", "30", "--users", "5", "--connections", "4", "--naive-keys", "2", "--password-cost", "4", "--no-pin", "--no-quiesce", "--out", out], {}),
      log: () => undefined,
    };
    const report = await runBench(options);
    const scenario = (id: string) => report.scenarios.find((s) => s.id === id && (s.db === db || s.db === null))!.median;

    expect(report.scenarios.map((s) => s.id).sort()).toEqual([...SCENARIOS].sort());
    for (const s of report.scenarios) expect({ id: s.id, unexpected: s.median.unexpected }).toEqual({ id: s.id, unexpected: 0 });
    for (const id of ["baseline-http", "baseline-apollo", "apollo-lean", "anonymous", "apikey-basic", "apikey-header", "apikey-1M", "apikey-nocache", "apikey-1M-nocache", "password-basic", "login-wrong-password", "login-unknown-email", "bad-keys-unknown", "bad-keys-revoked", "bad-keys-checksum", ...ADMIN_LISTS, "cookie-me"]) {
      expect({ id, served: scenario(id).requests > 0 }).toEqual({ id, served: true });
    }
    // At most one: a key's first request reads it, the key cache answers the rest.
    // A revoked key's first request looks it up; the remembered absence answers the rest.
    // A session cookie likewise: its first request reads the session, the session cache answers the rest.
    for (const id of ["apikey-basic", "apikey-header", "apikey-1M", "bad-keys-revoked", "cookie-me"]) expect({ id, atMostOne: scenario(id).selectsPerRequest <= 1 }).toEqual({ id, atMostOne: true });
    // With the cache off, exactly one per request.
    for (const id of ["apikey-nocache", "apikey-1M-nocache"]) expect({ id, selects: scenario(id).selectsPerRequest }).toEqual({ id, selects: expect.closeTo(1, 1) });
    // None on the request path for made-up or broken keys (test/auth/sql-per-request.http.test.ts
    // counts that exactly); a background flush of the collapsed failure counters may fall into the window.
    for (const id of ["bad-keys-unknown", "bad-keys-checksum"]) expect({ id, almostNone: scenario(id).selectsPerRequest < 0.01 }).toEqual({ id, almostNone: true });
    expect(report.revokeAll).toEqual([expect.objectContaining({ db, keys: 300 })]);
    expect(report.quiesceWaitsMs).toEqual([]); // --no-quiesce: the other tests keep MariaDB busy
    expect(report.ratios.find((r) => r.db === db && r.name === "apikey-basic / baseline-apollo")?.value).toBeGreaterThan(0);

    for (const file of Object.values(report.files!)) expect(fs.statSync(file).size).toBeGreaterThan(0);
    expect(fs.readFileSync(report.files!.png).subarray(1, 4).toString()).toBe("PNG");
    const markdown = fs.readFileSync(report.files!.md, "utf8");
    expect(markdown).toContain("| apikey-basic | " + db);
    expect(JSON.parse(fs.readFileSync(report.files!.json, "utf8")).scenarios).toHaveLength(SCENARIOS.length);
  }, 240_000);

  test("bench --only: just the scenarios named (the target pair closer in time), revokeAllApiKeys only when named; an unknown name is refused", async () => {
    const tiny = ["--db", db, "--duration", "1", "--rounds", "2", "--warmup", "0", "--big-keys", "300", "--revoke-keys", "30", "--keys", "10", "--users", "3", "--connections", "2", "--naive-keys", "2", "--password-cost", "4", "--no-pin", "--no-quiesce", "--out", out];
    const report = await runBench({ ...benchOptions([...tiny, "--only", "baseline-http,apikey-basic"], {}), log: () => undefined });
    expect(report.scenarios.map((s) => s.id)).toEqual(["baseline-http", "apikey-basic"]);
    expect(report.scenarios.every((s) => s.rounds.length === 2 && s.median.unexpected === 0)).toBe(true);
    expect(report.revokeAll).toEqual([]);
    expect(report.ratios.map((r) => r.name)).toEqual(["apikey-basic / baseline-http"]);
    await expect(runBench({ ...benchOptions([...tiny, "--only", "apikey-basic,no-such-scenario"], {}), log: () => undefined })).rejects.toThrow(/--only: unknown scenario no-such-scenario/);
  }, 240_000);

  test("soak: a few seconds of mixed traffic, no unexpected answer, a report and a chart", async () => {
    const report = await runSoak({ ...soakOptions(["--db", db, "--seconds", "3", "--rate", "40", "--no-pin", "--out", out], {}), log: () => undefined });
    const [result] = report.results;
    // The samples name what went wrong when something did.
    expect({ db: result.db, unexpected: result.unexpectedSamples }).toEqual({ db, unexpected: [] });
    expect(result.unexpected).toBe(0);
    expect(result.answered).toBe(result.sent);
    expect(result.sent).toBe(3 * 40); // seconds × rate, however late the ticks came
    expect(result.byAction.query).toBeGreaterThan(0);
    expect(result.perSecond).toHaveLength(3);
    expect(result.rssEndMB).toBeGreaterThan(0);
    expect(fs.readFileSync(report.files!.png).subarray(1, 4).toString()).toBe("PNG");
    expect(fs.readFileSync(report.files!.md, "utf8")).toContain(`| ${db} | ${result.sent} |`);
  }, 120_000);
});
