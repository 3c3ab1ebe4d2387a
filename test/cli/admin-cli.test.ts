import path from "node:path";
import { Readable, Writable } from "node:stream";
import { runCli } from "../../src/cli/admin-cli";
import { toSqlDateTime } from "../../src/db/data-source";
import { basic, startTestApp, type TestApp, viaKey } from "../support/app";
import { buildCli, type CliRun, runProcess } from "../support/cli";

const DAY = 24 * 3600_000;
// Each run is a node process starting up (about 0.5 s idle, more under the parallel suite).
jest.setTimeout(60_000);

describe("admin CLI (a real child process on the test database)", () => {
  let app: TestApp;
  let cli: ReturnType<typeof buildCli>;
  const runs: CliRun[] = [];

  const admin = async (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> => {
    const run = await runProcess(process.execPath, [path.join(cli.dir, "src", "cli", "main.js"), ...args], { input: options.input, env: { DATABASE_URL: app.db.url, ...options.env } });
    runs.push(run);
    return run;
  };
  /**
   * The same entry point in-process, for the many bad-argument cases: each child process costs
   * about a second on this machine, so the child-process tests cover each exit code and command once.
   */
  const inProcess = async (args: string[], input = ""): Promise<CliRun> => {
    let stdout = "";
    let stderr = "";
    const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, callback) => (append(String(chunk)), callback()) });
    const code = await runCli(args, {
      stdin: Readable.from([input]),
      stdout: sink((text) => (stdout += text)),
      stderr: sink((text) => (stderr += text)),
      env: { DATABASE_URL: app.db.url, LOG_LEVEL: "warn" },
    });
    const run = { code, stdout, stderr };
    runs.push(run);
    return run;
  };
  const userRow = async (email: string) => (await app.db.dataSource.query("SELECT id, is_admin, active, display_name FROM users WHERE email = ?", [email]))[0];
  const keyIds = async (): Promise<number[]> => (await app.db.dataSource.query("SELECT id FROM api_keys ORDER BY id")).map((row: { id: unknown }) => Number(row.id));
  const setExpiry = (id: string | number, expiresAt: Date) => app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", [toSqlDateTime(expiresAt), Number(id)]);

  beforeAll(async () => {
    cli = buildCli();
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
  });
  afterAll(async () => {
    await app?.close();
    cli?.cleanup();
  });
  afterEach(() => {
    // No secret a test made (passwords, keys) ever appears in what the CLI printed.
    for (const run of runs.splice(0)) {
      for (const secret of app.secrets) {
        expect(run.stdout).not.toContain(secret);
        expect(run.stderr).not.toContain(secret);
      }
    }
  });

  test("no command: usage on stderr, exit 2", async () => {
    const run = await admin([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Usage: node \S+main\.js <command>/m);
    expect(run.stderr).toContain("revoke-all-keys [--yes]");
  });

  test("unknown command or option: exit 2 with a clear message", async () => {
    const unknown = await inProcess(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await inProcess(["list-keys", "--colour"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^error: unknown option --colour\n/);
    expect(option.stderr).toContain("Usage: npm run admin -- list-keys");
  });

  test("help for an unknown command: exit 2 with an error, not the general help", async () => {
    const run = await admin(["help", "nosuch"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: unknown command "nosuch"\n/);
    expect(run.stdout).toBe("");
    const prototypeName = await inProcess(["help", "constructor"]);
    expect(prototypeName.code).toBe(2);
  });

  test("help for a command explains each option, --expired included", async () => {
    const run = await inProcess(["help", "list-keys"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^  --expired\s+only keys past their expiry date/m);
    expect(run.stdout).toMatch(/^  --owner\s+only the keys of the user with this email/m);
    expect((await inProcess(["settings", "--help"])).stdout).toMatch(/^  --retention-days\s+days an expired key is kept/m);
  });

  test("a missing or unwanted option value: a plain message naming the option", async () => {
    const missing = await inProcess(["list-keys", "--owner"]);
    expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([2, "error: option --owner needs a value"]);
    const unwanted = await inProcess(["revoke-all-keys", "--yes=please"]);
    expect([unwanted.code, unwanted.stderr.split("\n")[0]]).toEqual([2, "error: option --yes takes no value"]);
  });

  test("an out-of-range value is named by the flag the user typed", async () => {
    const run = await inProcess(["settings", "--retention-days", "4000"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --retention-days must be between 0 and \d+\.$/m);
    expect(run.stderr).not.toContain("expiredKeyRetentionDays");
    const long = await inProcess(["create-user", "c@example.org", "--display-name", "x".repeat(500)], "long-enough-password\n");
    expect(long.stderr).toMatch(/^error: --display-name must be at most \d+ characters\.$/m);
  });

  test("create-user: password from stdin works for login and is never printed", async () => {
    const password = "cli-Secret-pass-42";
    app.secrets.add(password);
    const run = await admin(["create-user", "Ops@Example.org", "--admin", "--display-name", "Ops Person"], { input: `${password}\n` });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Created user #\d+ ops@example\.org \(site admin\)/);
    const row = await userRow("ops@example.org");
    expect([Boolean(Number(row.is_admin)), row.display_name]).toEqual([true, "Ops Person"]);
    const me = await app.graphql("{ me { email isAdmin } }", {}, basic("ops@example.org", password));
    expect(me.body.data?.me).toEqual({ email: "ops@example.org", isAdmin: true });
  });

  test("create-user: no password on stdin, a too short one, or an existing email: exit 2, nothing created", async () => {
    const empty = await admin(["create-user", "a@example.org"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no password given");
    const short = await inProcess(["create-user", "a@example.org"], "short\n");
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("password must be at least 12 characters");
    expect(await userRow("a@example.org")).toBeUndefined();
    await app.createUser("taken@example.org");
    const duplicate = await inProcess(["create-user", "taken@example.org"], "another-password\n");
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain("already exists");
  });

  test("create-user: the password is not accepted as an argument", async () => {
    const run = await inProcess(["create-user", "b@example.org", "--password", "argv-password-1"]);
    expect(run.code).toBe(2);
    expect(await userRow("b@example.org")).toBeUndefined();
  });

  test("set-active: by email or id; a deactivated user can no longer log in; unknown user: exit 1", async () => {
    const user = await app.createUser("worker@example.org");
    const off = await admin(["set-active", "worker@example.org", "false"]);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain("is now inactive");
    expect(Number((await userRow(user.email)).active)).toBe(0);
    expect((await app.graphql("{ me { email } }", {}, basic(user.email, user.password))).status).toBe(401);

    const on = await inProcess(["set-active", String(user.id), "true"]);
    expect(on.code).toBe(0);
    expect(Number((await userRow(user.email)).active)).toBe(1);

    const missing = await admin(["set-active", "nobody@example.org", "true"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No user");
    const bad = await inProcess(["set-active", user.email, "maybe"]);
    expect(bad.code).toBe(2);
  });

  test("list-keys: a table with owner, hint, description and flags; --expired and --owner filter", async () => {
    const alice = await app.createUser("alice@example.org");
    const bob = await app.createUser("bob@example.org");
    await app.setKeysEnabled(true);
    const live = await app.generateKey(alice, { description: "nightly R job", readOnly: true });
    const old = await app.generateKey(bob, { description: "old laptop" });
    await setExpiry(old.id, new Date(Date.now() - DAY));

    const all = await admin(["list-keys"]);
    expect(all.code).toBe(0);
    const lines = all.stdout.split("\n");
    expect(lines[0]).toMatch(/^ID\s+OWNER\s+HINT\s+DESCRIPTION\s+CREATED\s+EXPIRES\s+LAST USED\s+FLAGS$/);
    expect(all.stdout).toMatch(new RegExp(`^${live.id}\\s+alice@example\\.org\\s+\\S+\\s+nightly R job\\s+.*read-only$`, "m"));
    expect(all.stdout).toMatch(new RegExp(`^${old.id}\\s+bob@example\\.org\\s+.*old laptop.*expired$`, "m"));
    expect(all.stdout).toContain("2 keys.");

    const expired = await inProcess(["list-keys", "--expired"]);
    expect(expired.stdout).toContain("old laptop");
    expect(expired.stdout).not.toContain("nightly R job");
    const alices = await inProcess(["list-keys", "--owner", "alice@example.org"]);
    expect(alices.stdout).toContain("nightly R job");
    expect(alices.stdout).not.toContain("old laptop");
  });

  test("revoke-key: the key stops working; unknown id: exit 1; not an id: exit 2", async () => {
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    const first = await app.generateKey(alice);
    const second = await app.generateKey(alice);
    const run = await admin(["revoke-key", first.id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Revoked 1 key.");
    expect(await keyIds()).toEqual([Number(second.id)]);
    expect((await app.graphql("{ me { email } }", {}, viaKey(first.key))).status).toBe(401);

    const partly = await admin(["revoke-key", second.id, "999999"]);
    expect(partly.code).toBe(1);
    expect(partly.stderr).toContain("1 of 2 ids matched no key");
    expect(await keyIds()).toEqual([]);
    const bad = await inProcess(["revoke-key", "12abc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not key ids: 12abc");
  });

  test("revoke-all-keys: refused without a terminal and without --yes; with --yes every key goes", async () => {
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    for (let i = 0; i < 3; i++) await app.generateKey(alice);

    const refused = await admin(["revoke-all-keys"], { input: "yes\n" });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    expect(await keyIds()).toHaveLength(3);

    const run = await admin(["revoke-all-keys", "--yes"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Revoked 3 keys.");
    expect(await keyIds()).toEqual([]);
    const audit = await app.db.dataSource.query("SELECT action, actor_id FROM audit_events WHERE action = 'ALL_API_KEYS_REVOKED'");
    expect(audit.map((row: { action: string; actor_id: unknown }) => [row.action, row.actor_id])).toEqual([["ALL_API_KEYS_REVOKED", null]]);
  });

  test("settings: changes what is asked, prints the result; bad values: exit 2, nothing changed", async () => {
    const run = await admin(["settings", "--enable-api-keys", "--expiration", "90d", "--retention-days", "7"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/API keys enabled:\s+yes/);
    expect(run.stdout).toMatch(/New key expiration:\s+90d/);
    expect(run.stdout).toMatch(/Expired-key retention:\s+7 days/);
    const settings = await app.services.settings.get();
    expect([settings.apiKeysEnabled, settings.apiKeyExpiration, settings.expiredKeyRetentionDays]).toEqual([true, "DAYS_90", 7]);

    for (const args of [["--expiration", "5d"], ["--retention-days", "4000"], ["--retention-days", "-1"], ["--enable-api-keys", "--disable-api-keys"]]) {
      const bad = await inProcess(["settings", ...args]);
      expect([args, bad.code]).toEqual([args, 2]);
    }
    const after = await app.services.settings.get();
    expect([after.apiKeysEnabled, after.apiKeyExpiration, after.expiredKeyRetentionDays]).toEqual([true, "DAYS_90", 7]);

    const shown = await inProcess(["settings"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Expired-key retention:\s+7 days/);
  });

  test("purge-expired: deletes keys past the retention only", async () => {
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    const longGone = await app.generateKey(alice);
    const recent = await app.generateKey(alice);
    const live = await app.generateKey(alice);
    await setExpiry(longGone.id, new Date(Date.now() - 10 * DAY));
    await setExpiry(recent.id, new Date(Date.now() - DAY));
    await app.services.settings.update({ expiredKeyRetentionDays: 7 });

    const run = await admin(["purge-expired"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Purged 1 expired key \(retention 7 days/);
    expect(await keyIds()).toEqual([Number(recent.id), Number(live.id)]);
  });

  test("database unreachable: exit 1 with the reason", async () => {
    const run = await admin(["list-keys"], { env: { DATABASE_URL: "mysql://root@127.0.0.1:1/nothing" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Cannot open the database");
  });

  test("npm run admin works without a build (ts-node)", async () => {
    const run = await runProcess("npm", ["run", "--silent", "admin", "--", "help", "purge-expired"], { env: { DATABASE_URL: app.db.url } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: npm run admin -- purge-expired");
  });
});
