import path from "node:path";
import { Readable, Writable } from "node:stream";
import { runCli } from "../../src/cli/admin-cli";
import { basic, type TestApp, type TestUser, viaKey } from "../support/app";
import { withAdminAndAlice } from "../support/admin-and-alice";
import { buildCli, type CliRun, runProcess } from "../support/cli";

jest.setTimeout(60_000);

describe("admin CLI: accounts and bulk revocation", () => {
  let app: TestApp;
  let cli: ReturnType<typeof buildCli>;
  let admin: TestUser;
  let alice: TestUser;
  const runs: CliRun[] = [];

  /** The commands in-process (a child process costs about a second here); one child run below. */
  const run = async (args: string[]): Promise<CliRun> => {
    let stdout = "";
    let stderr = "";
    const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, callback) => (append(String(chunk)), callback()) });
    const code = await runCli(args, {
      stdin: Readable.from([""]),
      stdout: sink((text) => (stdout += text)),
      stderr: sink((text) => (stderr += text)),
      env: { DATABASE_URL: app.db.url, LOG_LEVEL: "warn", KEY_CACHE_WINDOW_MS: "50" },
    });
    const result = { code, stdout, stderr };
    runs.push(result);
    return result;
  };

  withAdminAndAlice((...given) => ([app, admin, alice] = given));
  beforeAll(() => {
    cli = buildCli();
  });
  afterEach(() => {
    for (const { stdout, stderr } of runs.splice(0)) {
      for (const secret of app.secrets) {
        expect(stdout).not.toContain(secret);
        expect(stderr).not.toContain(secret);
      }
    }
  });
  afterAll(() => {
    cli?.cleanup();
  });

  test("list-users: a table with key counts, last key use and flags; filters", async () => {
    await app.generateKey(alice);
    await app.services.accounts.resetPassword(String(alice.id), { userId: null, email: null, ip: null });
    const all = await run(["list-users"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/ID\s+EMAIL\s+NAME\s+KEYS \(ACTIVE\/ALL\)\s+LAST KEY USE\s+CREATED\s+FLAGS/);
    expect(all.stdout).toMatch(/admin@example\.org\s+0\/0\s+never\s+.*admin/);
    expect(all.stdout).toMatch(/alice@example\.org\s+1\/1\s+never\s+.*must-change-password/);
    expect(all.stdout).toContain("2 users.");
    const admins = await run(["list-users", "--admins"]);
    expect(admins.stdout).not.toContain("alice@");
    expect((await run(["list-users", "--email-contains", "nobody"])).stdout).toBe("No users.\n");
    expect((await run(["list-users", "--active", "--inactive"])).code).toBe(2);
  });

  test("reset-password: prints a one-time password good only for changeMyPassword; the user's keys keep working", async () => {
    const { key } = await app.generateKey(alice);
    const reset = await run(["reset-password", "Alice@Example.org"]);
    expect(reset.code).toBe(0);
    const oneTime = reset.stdout.trim().split("\n").pop()!;
    expect(oneTime).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(reset.stdout).toContain("must be changed at the next login");
    const pending = await app.graphql("{ me { email } }", undefined, basic(alice.email, oneTime));
    expect(pending.body.errors![0].extensions).toMatchObject({ code: "FORBIDDEN", reason: "PASSWORD_CHANGE_REQUIRED" });
    expect((await app.graphql("{ me { email } }", undefined, viaKey(key))).status).toBe(200);
    expect((await run(["reset-password", "nobody@example.org"])).code).toBe(1);
  });

  test("delete-user: needs --yes without a terminal; deletes the user and their keys; refuses the last active admin", async () => {
    const { key } = await app.generateKey(alice);
    const unconfirmed = await run(["delete-user", alice.email]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("--yes");
    const deleted = await run(["delete-user", String(alice.id), "--yes"]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted user #${alice.id} alice@example.org and 1 API key.\n` });
    expect((await app.graphql("{ me { email } }", undefined, viaKey(key))).status).toBe(401);
    const last = await run(["delete-user", admin.email, "--yes"]);
    expect(last.code).toBe(2);
    expect(last.stderr).toContain("last active site admin");
    expect((await app.graphql("{ me { email } }", undefined, basic(admin.email, admin.password))).status).toBe(200);
  });

  test("revoke-keys-where --dry-run: the count, then the first 20 matching keys (owner, description, hint, last used); nothing revoked", async () => {
    for (let i = 0; i < 22; i++) await app.generateKey(alice, { description: `nightly job ${i}` });
    await app.generateKey(admin, { description: "my laptop" });
    const dry = await run(["revoke-keys-where", "--description-contains", "NIGHTLY", "--dry-run"]);
    expect(dry.code).toBe(0);
    const lines = dry.stdout.split("\n");
    expect(lines[0]).toBe("22 keys match.");
    expect(lines[1]).toMatch(/ID\s+OWNER\s+DESCRIPTION\s+HINT\s+LAST USED/);
    const rows = lines.filter((line) => line.includes("alice@example.org"));
    expect(rows).toHaveLength(20);
    expect(rows[0]).toMatch(/nightly job 21\s+xta_\S+\s+never/);
    expect(dry.stdout).toContain("… and 2 more.");
    expect(dry.stdout).toContain("Dry run: nothing was revoked.");
    expect(dry.stdout).not.toContain("my laptop");
    expect(Number((await app.db.dataSource.query("SELECT COUNT(*) AS count FROM api_keys"))[0].count)).toBe(23);
  });

  test("revoke-keys-where: --yes revokes the matches; no filter needs --all; bad dates are usage errors", async () => {
    const { key } = await app.generateKey(alice, { description: "old" });
    const kept = await app.generateKey(admin, { description: "kept" });
    expect((await run(["revoke-keys-where", "--owner", alice.email])).code).toBe(2); // no terminal, no --yes
    const revoked = await run(["revoke-keys-where", "--owner", alice.email, "--yes"]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain("Revoked 1 key.");
    expect((await app.graphql("{ me { email } }", undefined, viaKey(key))).status).toBe(401);

    const everything = await run(["revoke-keys-where", "--yes"]);
    expect(everything.code).toBe(2);
    expect(everything.stderr).toContain("--all");
    expect((await app.graphql("{ me { email } }", undefined, viaKey(kept.key))).status).toBe(200);
    expect((await run(["revoke-keys-where", "--all", "--yes"])).stdout).toContain("Revoked 1 key.");

    const badDate = await run(["revoke-keys-where", "--unused-since", "last tuesday", "--dry-run"]);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain("--unused-since must be a date");
  });

  test("as a real process: list-users", async () => {
    const result = await runProcess(process.execPath, [path.join(cli.dir, "src", "cli", "main.js"), "list-users"], { env: { DATABASE_URL: app.db.url } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("alice@example.org");
  });
});
