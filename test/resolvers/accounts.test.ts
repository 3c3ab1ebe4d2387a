import { SYSTEM_ACTOR } from "../../src/entities/audit-event.entity";
import { PERMISSION_DENIED_MESSAGE } from "../../src/errors";
import { basic, type Credentials, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";
import { withAdminAndAlice } from "../support/admin-and-alice";
import { runProcess } from "../support/cli";
import { createTestDatabase } from "../support/database";

const CHANGE = "mutation($current: String!, $next: String!) { changeMyPassword(currentPassword: $current, newPassword: $next) }";
const RESET = "mutation($id: ID!) { resetUserPassword(id: $id) }";
const DELETE = "mutation($id: ID!) { deleteUser(id: $id) }";
const USERS = `query($filter: UserFilter, $first: Int, $after: String) {
  users(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id email isAdmin active keyCount activeKeyCount lastActivityAt passwordChangeRequired passwordChangedAt }
  }
}`;
const ME = "{ me { email } }";

describe("accounts over HTTP", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);
  const newPassword = (label: string) => {
    const password = `${label} correct horse battery`;
    app.secrets.add(password);
    return password;
  };
  const auditOf = async (action: string) => {
    const result = await app.graphql(`query($action: String) { auditEvents(filter: { action: $action }) { nodes { action actorEmail actor { id } detail details } } }`, { action }, as(admin));
    return result.body.data.auditEvents.nodes as Array<{ action: string; actorEmail: string | null; actor: { id: string } | null; detail: string; details: Record<string, unknown> }>;
  };

  withAdminAndAlice((...given) => ([app, admin, alice] = given));

  describe("changeMyPassword", () => {
    test("the new password works, the old one no longer does, and the caller's API keys keep working", async () => {
      const { key } = await app.generateKey(alice);
      const next = newPassword("alice");
      const result = await app.graphql(CHANGE, { current: alice.password, next }, as(alice));
      expect(result.body).toEqual({ data: { changeMyPassword: true } });
      expect((await app.graphql(ME, undefined, as(alice))).status).toBe(401);
      expect((await app.graphql(ME, undefined, basic(alice.email, next))).body.data.me.email).toBe(alice.email);
      expect((await app.graphql(ME, undefined, viaKey(key))).body.data.me.email).toBe(alice.email);
      const [event] = await auditOf("PASSWORD_CHANGED");
      expect(event).toMatchObject({ actorEmail: alice.email, details: { userId: alice.id, email: alice.email, sessionsEnded: 0 } });
    });

    test("through an API key it needs the current password too", async () => {
      const { key } = await app.generateKey(alice);
      const result = await app.graphql(CHANGE, { current: alice.password, next: newPassword("by key") }, viaKey(key));
      expect(result.body.data.changeMyPassword).toBe(true);
    });

    test("a wrong current password: 400 BAD_USER_INPUT naming currentPassword, nothing changes, nothing echoed", async () => {
      const wrong = "not my password at all";
      app.secrets.add(wrong);
      const result = await app.graphql(CHANGE, { current: wrong, next: newPassword("wrong") }, as(alice));
      expect(result.status).toBe(400);
      expect(result.body.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", argumentName: "currentPassword" });
      expect((await app.graphql(ME, undefined, as(alice))).status).toBe(200);
    });

    test.each([
      ["11 characters", "abcdefghijk", /at least 12 characters/],
      ["over 72 bytes", "é".repeat(37), /at most 72 bytes/],
      ["a common password said twice", "dragondragon", /common/],
      ["one character repeated", "zzzzzzzzzzzzzz", /common/],
      ["the account's email", "alice@example.org", /email/],
      ["the current password", null, /differ/],
    ])("a new password that is %s: BAD_USER_INPUT naming newPassword, not echoed", async (_name, candidate, message) => {
      const next = candidate ?? alice.password;
      const result = await app.graphql(CHANGE, { current: alice.password, next }, as(alice));
      expect(result.status).toBe(400);
      expect(result.body.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", argumentName: "newPassword" });
      expect(result.body.errors![0].message).toMatch(message);
      expect(JSON.stringify(result.body)).not.toContain(next);
    });

    test("12 characters with no other rule are enough", async () => {
      const next = "zqxjvkzqxjvk";
      app.secrets.add(next);
      expect((await app.graphql(CHANGE, { current: alice.password, next }, as(alice))).body.data.changeMyPassword).toBe(true);
    });

    test("a read-only key may not change the password: 403 READ_ONLY_KEY", async () => {
      const { key } = await app.generateKey(alice, { readOnly: true });
      const result = await app.graphql(CHANGE, { current: alice.password, next: newPassword("read-only") }, viaKey(key));
      expect(result.status).toBe(403);
      expect(result.body.errors![0].extensions).toMatchObject({ code: "FORBIDDEN", reason: "READ_ONLY_KEY" });
    });

    test("without credentials: 401", async () => {
      expect((await app.graphql(CHANGE, { current: "whatever password", next: "whatever password 2" })).status).toBe(401);
    });
  });

  describe("resetUserPassword", () => {
    test("a one-time password that is good only for changeMyPassword; keys keep working; the chosen password then works", async () => {
      const { key } = await app.generateKey(alice);
      const reset = await app.graphql(RESET, { id: String(alice.id) }, as(admin));
      const oneTime: string = reset.body.data.resetUserPassword;
      expect(oneTime).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect((await app.graphql(ME, undefined, as(alice))).status).toBe(401);

      for (const query of [ME, "mutation { generateApiKey { key } }", "{ myApiKeys { id } }"]) {
        const refused = await app.graphql(query, undefined, basic(alice.email, oneTime));
        expect(refused.status).toBe(403);
        expect(refused.body.errors![0]).toMatchObject({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "FORBIDDEN", reason: "PASSWORD_CHANGE_REQUIRED" } });
        expect(refused.body.errors![0].extensions!.hint).toMatch(/changeMyPassword/);
      }
      expect((await app.graphql(ME, undefined, viaKey(key))).body.data.me.email).toBe(alice.email);

      const listed = await app.graphql(USERS, { filter: { emailContains: "alice" } }, as(admin));
      expect(listed.body.data.users.nodes[0]).toMatchObject({ passwordChangeRequired: true });
      expect(listed.body.data.users.nodes[0].passwordChangedAt).not.toBeNull();

      const same = await app.graphql(CHANGE, { current: oneTime, next: oneTime }, basic(alice.email, oneTime));
      expect(errorCode(same)).toBe("BAD_USER_INPUT");
      const next = newPassword("after reset");
      expect((await app.graphql(CHANGE, { current: oneTime, next }, basic(alice.email, oneTime))).body.data.changeMyPassword).toBe(true);
      expect((await app.graphql(ME, undefined, basic(alice.email, next))).body.data.me.email).toBe(alice.email);
      expect((await app.graphql(ME, undefined, basic(alice.email, oneTime))).status).toBe(401);
      expect((await app.graphql(USERS, { filter: { emailContains: "alice" } }, as(admin))).body.data.users.nodes[0].passwordChangeRequired).toBe(false);

      const [event] = await auditOf("PASSWORD_RESET");
      expect(event).toMatchObject({ actorEmail: admin.email, details: { userId: alice.id, email: alice.email } });
      expect(JSON.stringify(event)).not.toContain(oneTime);
    });

    test("non-admin: 403 ADMIN_REQUIRED; unknown or malformed id: NOT_FOUND", async () => {
      const refused = await app.graphql(RESET, { id: String(admin.id) }, as(alice));
      expect(refused.status).toBe(403);
      expect(refused.body.errors![0].extensions).toMatchObject({ code: "FORBIDDEN", reason: "ADMIN_REQUIRED" });
      expect(errorCode(await app.graphql(RESET, { id: "424242" }, as(admin)))).toBe("NOT_FOUND");
      expect(errorCode(await app.graphql(RESET, { id: "x" }, as(admin)))).toBe("NOT_FOUND");
      expect((await app.graphql(ME, undefined, as(admin))).status).toBe(200);
    });
  });

  describe("users", () => {
    test("paged in creation order, with key counts, last key use and totalCount", async () => {
      const bob = await app.createUser("bob@example.org");
      await app.createUser("carol@example.org");
      const first = await app.generateKey(bob);
      await app.generateKey(bob);
      await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", ["2000-01-01 00:00:00.000", Number(first.id)]);
      await app.graphql(ME, undefined, viaKey((await app.generateKey(alice)).key));
      await app.services.lastUsed.flush();

      const page1 = await app.graphql(USERS, { first: 2 }, as(admin));
      expect(page1.body.data.users.totalCount).toBe(4);
      expect(page1.body.data.users.nodes.map((u: { email: string }) => u.email)).toEqual([admin.email, alice.email]);
      expect(page1.body.data.users.nodes[1]).toMatchObject({ keyCount: 1, activeKeyCount: 1, passwordChangeRequired: false, passwordChangedAt: null });
      expect(page1.body.data.users.nodes[1].lastActivityAt).not.toBeNull();
      expect(page1.body.data.users.nodes[0]).toMatchObject({ keyCount: 0, activeKeyCount: 0, lastActivityAt: null });
      expect(page1.body.data.users.pageInfo.hasNextPage).toBe(true);

      const page2 = await app.graphql(USERS, { first: 2, after: page1.body.data.users.pageInfo.endCursor }, as(admin));
      expect(page2.body.data.users.nodes.map((u: { email: string }) => u.email)).toEqual(["bob@example.org", "carol@example.org"]);
      expect(page2.body.data.users.nodes[0]).toMatchObject({ keyCount: 2, activeKeyCount: 1, lastActivityAt: null });
      expect(page2.body.data.users.pageInfo.hasNextPage).toBe(false);
    });

    test("filters: email substring in any case (LIKE wildcards taken literally), active, isAdmin", async () => {
      const bob = await app.createUser("bob_smith@example.org");
      await app.services.users.setActive(String(bob.id), false, SYSTEM_ACTOR);
      const emails = async (filter: object) => (await app.graphql(USERS, { filter }, as(admin))).body.data.users.nodes.map((u: { email: string }) => u.email);
      expect(await emails({ emailContains: "ALICE" })).toEqual([alice.email]);
      expect(await emails({ emailContains: "b_s" })).toEqual(["bob_smith@example.org"]);
      expect(await emails({ emailContains: "%" })).toEqual([]);
      expect(await emails({ active: false })).toEqual(["bob_smith@example.org"]);
      expect(await emails({ isAdmin: true })).toEqual([admin.email]);
      expect(await emails({ isAdmin: false, active: true })).toEqual([alice.email]);
    });

    test("the same fields on other users: me, and every owner of a page of keys", async () => {
      await app.generateKey(alice);
      const me = await app.graphql("{ me { keyCount activeKeyCount passwordChangeRequired } }", undefined, as(alice));
      expect(me.body.data.me).toEqual({ keyCount: 1, activeKeyCount: 1, passwordChangeRequired: false });
      const keys = await app.graphql("{ apiKeys { nodes { owner { email keyCount } } } }", undefined, as(admin));
      expect(keys.body.data.apiKeys.nodes).toEqual([{ owner: { email: alice.email, keyCount: 1 } }]);
    });

    test("non-admin: 403 ADMIN_REQUIRED; bad first or cursor: BAD_USER_INPUT", async () => {
      const refused = await app.graphql(USERS, {}, as(alice));
      expect(refused.body.errors![0].extensions).toMatchObject({ code: "FORBIDDEN", reason: "ADMIN_REQUIRED" });
      expect(errorCode(await app.graphql(USERS, { first: 501 }, as(admin)))).toBe("BAD_USER_INPUT");
      expect(errorCode(await app.graphql(USERS, { after: "bm90IGEgY3Vyc29y" }, as(admin)))).toBe("BAD_USER_INPUT");
    });
  });

  describe("deleteUser", () => {
    test("removes the user, their keys (at once, cached or not) and stored results; the audit trail stays", async () => {
      const { key } = await app.generateKey(alice);
      const replayable = await app.graphql("mutation { generateApiKey(description: \"replayable\", idempotencyKey: \"6f1c3a52-retry-safe\") { key } }", undefined, as(alice));
      expect(replayable.body.data.generateApiKey.key).toBeDefined();
      expect(await app.db.dataSource.query("SELECT id FROM idempotent_results WHERE user_id = ?", [alice.id])).toHaveLength(1);
      expect((await app.graphql(ME, undefined, viaKey(key))).status).toBe(200); // now cached
      const [{ generation: before }] = await app.db.dataSource.query("SELECT generation FROM revocation_epoch");

      expect((await app.graphql(DELETE, { id: String(alice.id) }, as(admin))).body).toEqual({ data: { deleteUser: true } });

      expect((await app.graphql(ME, undefined, viaKey(key))).status).toBe(401);
      expect((await app.graphql(ME, undefined, as(alice))).status).toBe(401);
      const [{ generation: after }] = await app.db.dataSource.query("SELECT generation FROM revocation_epoch");
      expect(Number(after)).toBeGreaterThan(Number(before));
      expect(await app.db.dataSource.query("SELECT id FROM users WHERE id = ?", [alice.id])).toEqual([]);
      expect(await app.db.dataSource.query("SELECT id FROM api_keys WHERE owner_id = ?", [alice.id])).toEqual([]);
      expect(await app.db.dataSource.query("SELECT id FROM idempotent_results WHERE user_id = ?", [alice.id])).toEqual([]);

      const generated = await auditOf("API_KEY_GENERATED");
      expect(generated).toHaveLength(2);
      expect(generated[0]).toMatchObject({ actorEmail: alice.email, actor: null });
      const [deleted] = await auditOf("USER_DELETED");
      expect(deleted).toMatchObject({ actorEmail: admin.email, details: { userId: alice.id, email: alice.email, isAdmin: false, keysDeleted: 2 } });
    });

    test("an id freed by a deletion and given to a new user does not make them the author of the old events", async () => {
      await app.generateKey(alice);
      await app.graphql(DELETE, { id: String(alice.id) }, as(admin));
      await app.createUser("zed@example.org");
      const [generated] = await auditOf("API_KEY_GENERATED");
      expect(generated).toMatchObject({ actorEmail: alice.email, actor: null });
    });

    test("another admin may be deleted; an admin cannot delete their own account", async () => {
      const second = await app.createUser("second@example.org", { isAdmin: true });
      expect(errorCode(await app.graphql(DELETE, { id: String(admin.id) }, as(admin)))).toBe("BAD_USER_INPUT");
      expect((await app.graphql(DELETE, { id: String(second.id) }, as(admin))).body.data.deleteUser).toBe(true);
    });

    test("the last active site admin is refused (from the CLI's actor too), with a message that says why", async () => {
      const inactive = await app.createUser("former@example.org", { isAdmin: true });
      await app.services.users.setActive(String(inactive.id), false, SYSTEM_ACTOR);
      await expect(app.services.accounts.deleteUser(String(admin.id), SYSTEM_ACTOR)).rejects.toMatchObject({ message: expect.stringMatching(/last active site admin/), extensions: { code: "BAD_USER_INPUT" } });
      expect((await app.graphql(ME, undefined, as(admin))).status).toBe(200);
      await expect(app.services.accounts.deleteUser(String(inactive.id), SYSTEM_ACTOR)).resolves.toMatchObject({ email: inactive.email });
    });

    test("two admins deleting each other at once: one of them stays", async () => {
      const second = await app.createUser("second@example.org", { isAdmin: true });
      const results = await Promise.all([app.graphql(DELETE, { id: String(second.id) }, as(admin)), app.graphql(DELETE, { id: String(admin.id) }, as(second))]);
      const [{ count }] = await app.db.dataSource.query("SELECT COUNT(*) AS count FROM users WHERE is_admin = ? AND active = ?", [true, true]);
      expect(Number(count)).toBe(1);
      expect(results.filter((result) => result.body.data?.deleteUser === true)).toHaveLength(1);
    });

    test("non-admin: 403 ADMIN_REQUIRED, nothing deleted; unknown id: NOT_FOUND", async () => {
      const refused = await app.graphql(DELETE, { id: String(admin.id) }, as(alice));
      expect(refused.body.errors![0].extensions).toMatchObject({ code: "FORBIDDEN", reason: "ADMIN_REQUIRED" });
      expect(errorCode(await app.graphql(DELETE, { id: "424242" }, as(admin)))).toBe("NOT_FOUND");
      expect((await app.graphql(ME, undefined, as(admin))).status).toBe(200);
    });
  });
});

describe("the first admin from ADMIN_PASSWORD", () => {
  test("a password the rules refuse stops the first start, names ADMIN_PASSWORD, never echoes it, creates no user", async () => {
    const app = await startTestApp();
    try {
      await app.db.reset();
      await expect(app.services.users.ensureInitialAdmin("root@example.org", "password1")).rejects.toThrow(/^ADMIN_PASSWORD must be at least 12 characters/);
      await expect(app.services.users.ensureInitialAdmin("root@example.org", "password1")).rejects.not.toThrow(/password1/);
      expect(await app.services.users.count()).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe("the server's first start with an ADMIN_PASSWORD the rules refuse", () => {
  test("exits 2 with a configuration message naming ADMIN_PASSWORD, never the value; no user is created", async () => {
    const db = await createTestDatabase();
    try {
      const run = await runProcess(process.execPath, ["-r", "ts-node/register/transpile-only", "src/main.ts"], {
        env: { DATABASE_URL: db.url, ADMIN_PASSWORD: "password1", PORT: "0", HOST: "127.0.0.1", TS_NODE_PROJECT: "tsconfig.json" },
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("Invalid configuration:\n  - ADMIN_PASSWORD must be at least 12 characters");
      expect(run.stdout + run.stderr).not.toContain("password1");
      expect(await db.dataSource.query("SELECT id FROM users")).toEqual([]);
    } finally {
      await db.destroy();
    }
  }, 90_000);
});

describe("changeMyPassword is throttled like a login", () => {
  let app: TestApp;
  beforeAll(async () => {
    // Each test's guesses come from a client address of their own (the throttle counts per IP too).
    app = await startTestApp({ AUTH_FAILURE_LIMIT: "3", TRUST_PROXY: "1" });
  });
  const from = (credentials: Credentials, ip: string): Credentials => ({ ...credentials, headers: { ...credentials.headers, "x-forwarded-for": ip } });
  afterAll(async () => {
    await app.close();
  });

  test("after the limit of wrong current passwords: 429, even with the right one, and for password logins to the account", async () => {
    const bob = await app.createUser("bob@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(bob);
    const next = "a fine new password";
    app.secrets.add(next);
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(errorCode(await app.graphql(CHANGE, { current: `wrong guess number ${attempt}`, next }, from(viaKey(key), "203.0.113.21")))).toBe("BAD_USER_INPUT");
    }
    const blocked = await app.graphql(CHANGE, { current: bob.password, next }, from(viaKey(key), "203.0.113.22"));
    expect(blocked.status).toBe(429);
    expect(errorCode(blocked)).toBe("TOO_MANY_REQUESTS");
    // One counter per account: password logins to it wait too, while its keys keep working.
    expect((await app.graphql(ME, undefined, basic(bob.email, bob.password))).status).toBe(429);
    expect((await app.graphql(ME, undefined, viaKey(key))).status).toBe(200);
    await app.services.audit.flushFailures();
    const [row] = await app.db.dataSource.query("SELECT count, details FROM audit_events WHERE action = 'AUTHENTICATION_FAILED'");
    expect(Number(row.count)).toBe(3);
    expect(JSON.parse(row.details)).toEqual({ reason: "WRONG_CURRENT_PASSWORD", method: "password" });
  });

  test("20 concurrent wrong current passwords: at most the limit reach bcrypt, the rest get 429 with Retry-After", async () => {
    const carol = await app.createUser("carol@example.org");
    const { key } = await app.generateKey(carol);
    const next = "another fine new password";
    app.secrets.add(next);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => app.graphql(CHANGE, { current: `concurrent guess ${i}`, next }, from(viaKey(key), "203.0.113.31"))));
    const evaluated = results.filter((result) => errorCode(result) === "BAD_USER_INPUT");
    const throttled = results.filter((result) => result.status === 429);
    expect(evaluated.length).toBeGreaterThan(0);
    expect(evaluated.length).toBeLessThanOrEqual(3);
    expect(evaluated.length + throttled.length).toBe(20);
    expect(Number(throttled[0].headers.get("retry-after"))).toBeGreaterThan(0);
    // The right password is refused too while the account is throttled.
    expect((await app.graphql(CHANGE, { current: carol.password, next }, from(viaKey(key), "203.0.113.32"))).status).toBe(429);
  });

  test("a new password that breaks the rules is refused before bcrypt and is no attempt at the current one", async () => {
    const dave = await app.createUser("dave@example.org");
    const { key } = await app.generateKey(dave);
    for (let attempt = 0; attempt < 5; attempt++) {
      const refused = await app.graphql(CHANGE, { current: `not checked ${attempt}`, next: "short" }, from(viaKey(key), "203.0.113.41"));
      expect(errorCode(refused)).toBe("BAD_USER_INPUT");
      expect(refused.body.errors![0].extensions!.argumentName).toBe("newPassword");
    }
    expect(errorCode(await app.graphql(CHANGE, { current: dave.password, next: dave.password }, from(viaKey(key), "203.0.113.41")))).toBe("BAD_USER_INPUT");
    const next = "dave's chosen new password";
    app.secrets.add(next);
    expect((await app.graphql(CHANGE, { current: dave.password, next }, from(viaKey(key), "203.0.113.41"))).body.data?.changeMyPassword).toBe(true);
  });
});
