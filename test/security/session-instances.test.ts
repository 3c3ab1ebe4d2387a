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
 * works on B, and logout, deactivation and an admin's endSessions on one instance stop the
 * cookie and its session keys on the other on the very next request.
 */
describe("login sessions across two instances", () => {
  let db: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  const password = "instances-Secret-pw";
  const adminAuth = "Basic " + Buffer.from(`admin@example.org:${password}`).toString("base64");
  const secrets: string[] = [];

  const post = async (server: ChildServer, query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query }) });
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
    const users = new UserService(db.dataSource, new AuditService(db.dataSource, silent), new RevocationEpoch(db.dataSource, { windowMs: 0, maxEntries: 1 }, silent), new PasswordHasher(4));
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
      expect(server.output()).not.toContain(password);
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
});
