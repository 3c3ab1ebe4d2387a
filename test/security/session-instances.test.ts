import pino from "pino";
import { AuditService } from "../../src/services/audit.service";
import { RevocationEpoch } from "../../src/keys/revocation-epoch";
import { UserService } from "../../src/services/user.service";
import { PasswordHasher } from "../../src/services/password-hasher";
import { type ChildServer, startChildServer } from "../support/child-server";
import { createTestDatabase, type TestDatabase } from "../support/database";

const SECRET_SHAPE = /xt[asc]_[0-9A-Za-z]{49}/;

/**
 * Login sessions on two real server processes sharing one database: a session started on A
 * works on B, and every operation that ends a session, run on one instance, stops the cookie and
 * its session keys on the other on the very next request.
 */
describe("login sessions across two instances", () => {
  let db: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  const password = "instances-Secret-pw";
  const adminAuth = "Basic " + Buffer.from(`admin@example.org:${password}`).toString("base64");
  const secrets: string[] = [];
  let users: UserService;

  const post = async (server: ChildServer, query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>) => {
    const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
    return { status: response.status, body: (await response.json()) as any, setCookies: response.headers.getSetCookie() };
  };
  const login = async (server: ChildServer, email: string) => {
    const answer = await post(server, `mutation { login(email: "${email}", password: "${password}") { id } }`);
    const line = answer.setCookies.find((cookie) => cookie.startsWith("xta_session="));
    if (!line) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
    const cookie = line.split(";")[0];
    secrets.push(cookie.slice("xta_session=".length));
    return { cookie, userId: answer.body.data.login.id as string };
  };
  const me = (server: ChildServer, headers: Record<string, string>) => post(server, "{ me { email } }", headers).then((answer) => answer.status);

  beforeAll(async () => {
    db = await createTestDatabase();
    const silent = pino({ level: "silent" });
    users = new UserService(db.dataSource, new AuditService(db.dataSource, silent), new RevocationEpoch(db.dataSource, { windowMs: 0, maxEntries: 1 }, silent), new PasswordHasher(4));
    await users.create({ email: "admin@example.org", password, isAdmin: true });
    for (const name of ["alice", "bob", "carol"]) await users.create({ email: `${name}@example.org`, password });
    const env = { DATABASE_URL: db.url, LAST_USED_FLUSH_INTERVAL_MS: "200" };
    [a, b] = await Promise.all([startChildServer(env), startChildServer(env)]);
    await post(a, "mutation { updateExternalToolSettings(input: { sessionKeysEnabled: true }) { sessionKeysEnabled } }", { authorization: adminAuth });
  }, 120_000);
  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    const rows = JSON.stringify(await db.dataSource.query("SELECT * FROM sessions")) + JSON.stringify(await db.dataSource.query("SELECT * FROM session_keys"));
    await db.destroy();
    expect(codes).toEqual([0, 0]);
    for (const server of [a, b]) {
      expect(server.output()).not.toMatch(SECRET_SHAPE);
      for (const secret of [password, ...secrets]) expect(server.output()).not.toContain(secret);
    }
    for (const secret of secrets) expect(rows).not.toContain(secret);
  });

  test("a session started on A works on B; logout on A stops it and its session key on B at once", async () => {
    const { cookie } = await login(a, "alice@example.org");
    expect(await me(b, { cookie })).toBe(200);
    const key = (await post(b, "mutation { generateSessionKey }", { cookie })).body.data.generateSessionKey as string;
    secrets.push(key);
    const keyAuth = { authorization: "Basic " + Buffer.from(`apikey:${key}`).toString("base64") };
    expect(await me(a, keyAuth)).toBe(200);
    expect(await me(b, keyAuth)).toBe(200);
    expect((await post(a, "mutation { logout }", { cookie })).body.data.logout).toBe(true);
    expect(await me(b, { cookie })).toBe(401);
    expect(await me(b, keyAuth)).toBe(401);
    expect(await me(a, keyAuth)).toBe(401);
  });

  test("deactivation on A ends the user's sessions on B at once", async () => {
    const { cookie, userId } = await login(b, "bob@example.org");
    expect(await me(b, { cookie })).toBe(200);
    expect(await me(a, { cookie })).toBe(200);
    expect((await post(a, `mutation { setUserActive(id: "${userId}", active: false) { active } }`, { authorization: adminAuth })).status).toBe(200);
    expect(await me(b, { cookie })).toBe(401);
  });

  test("an admin's endSessions on B ends the user's sessions on A at once", async () => {
    const { cookie, userId } = await login(a, "carol@example.org");
    expect(await me(a, { cookie })).toBe(200);
    expect((await post(b, `mutation { endSessions(userId: "${userId}") }`, { authorization: adminAuth })).body.data.endSessions).toBe(1);
    expect(await me(a, { cookie })).toBe(401);
  });
  /**
   * Every operation that ends a session, run on A. The session it ends was started on B, which
   * has served its cookie and a session key bound to it a moment before; both must be refused by
   * B on the very next request. `actor` is a second session of the same user, started on A.
   */
  describe("every operation that ends a session: ended on A, refused on B on the very next request", () => {
    interface Subject {
      userId: string;
      /** The session on B that must end. */
      ended: { cookie: string };
      /** The user's other session, on A: the one that acts for the user's own operations. */
      actor: { cookie: string };
    }
    const admin = { authorization: adminAuth };
    const ok = <T>(result: { status: number; body: any }, field: string): T => {
      if (result.status !== 200 || result.body.errors) throw new Error(`${field}: HTTP ${result.status} ${JSON.stringify(result.body.errors)}`);
      return result.body.data[field];
    };
    const rows: Array<{ path: string; end(subject: Subject): Promise<void> }> = [
      { path: "logout", end: async ({ ended }) => void expect(ok(await post(a, "mutation { logout }", ended), "logout")).toBe(true) },
      {
        path: "endMySession (another session of the same user)",
        end: async ({ ended, actor }) => {
          const sessions = ok<Array<{ id: string; current: boolean }>>(await post(a, "{ mySessions { id current } }", actor), "mySessions");
          const other = sessions.filter((session) => !session.current);
          expect(other).toHaveLength(1);
          expect(ok(await post(a, "mutation ($id: ID!) { endMySession(id: $id) }", actor, { id: other[0].id }), "endMySession")).toBe(true);
          expect(await me(a, actor)).toBe(200); // the session that acted is left alone
        },
      },
      {
        path: "endMyOtherSessions",
        end: async ({ actor }) => {
          expect(ok(await post(a, "mutation { endMyOtherSessions }", actor), "endMyOtherSessions")).toBe(1);
          expect(await me(a, actor)).toBe(200);
        },
      },
      {
        path: "changeMyPassword",
        end: async ({ actor }) => {
          const newPassword = `a new passphrase for ${Math.random().toString(36).slice(2)}`;
          secrets.push(newPassword);
          expect(ok(await post(a, "mutation ($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }", actor, { c: password, n: newPassword }), "changeMyPassword")).toBe(true);
        },
      },
      { path: "resetUserPassword", end: async ({ userId }) => void secrets.push(ok<string>(await post(a, "mutation ($id: ID!) { resetUserPassword(id: $id) }", admin, { id: userId }), "resetUserPassword")) },
      { path: "setUserActive(active: false)", end: async ({ userId }) => void expect(ok<{ active: boolean }>(await post(a, "mutation ($id: ID!) { setUserActive(id: $id, active: false) { active } }", admin, { id: userId }), "setUserActive").active).toBe(false) },
      { path: "endSessions", end: async ({ userId }) => void expect(ok(await post(a, "mutation ($id: ID!) { endSessions(userId: $id) }", admin, { id: userId }), "endSessions")).toBe(2) },
      { path: "deleteUser", end: async ({ userId }) => void expect(ok(await post(a, "mutation ($id: ID!) { deleteUser(id: $id) }", admin, { id: userId }), "deleteUser")).toBe(true) },
    ];

    test.each(rows.map((row, index) => [row.path, row, index] as const))("%s", async (_path, row, index) => {
      const email = `ends-${index}@example.org`;
      await users.create({ email, password });
      const ended = await login(b, email);
      const key = ok<string>(await post(b, "mutation { generateSessionKey }", { cookie: ended.cookie }), "generateSessionKey");
      secrets.push(key);
      const keyAuth = { authorization: "Basic " + Buffer.from(`apikey:${key}`).toString("base64") };
      const actor = await login(a, email);
      // B reads the session and the key once and serves them from its caches from then on.
      for (let i = 0; i < 2; i++) expect([await me(b, { cookie: ended.cookie }), await me(b, keyAuth)]).toEqual([200, 200]);

      await row.end({ userId: ended.userId, ended: { cookie: ended.cookie }, actor: { cookie: actor.cookie } });

      expect({ cookie: await me(b, { cookie: ended.cookie }), sessionKey: await me(b, keyAuth) }).toEqual({ cookie: 401, sessionKey: 401 });
    });
  });
});
