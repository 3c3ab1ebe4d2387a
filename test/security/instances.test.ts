import { RevocationEpoch } from "../../src/keys/revocation-epoch";
import pino from "pino";
import { fromSqlDateTime } from "../../src/db/data-source";
import { AuditService } from "../../src/services/audit.service";
import { UserService } from "../../src/services/user.service";
import { PasswordHasher } from "../../src/auth/password-hasher";
import { type ChildServer, startChildServer } from "../support/child-server";
import { createTestDatabase, type TestDatabase } from "../support/database";

const KEY_SHAPE = /xta_[0-9A-Za-z]{49}/;

/** Two real server processes on different ports sharing one database (the only shared state). */
describe("several instances sharing one database", () => {
  let db: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  const adminEmail = "admin@example.org";
  const adminPassword = "instances-Admin-Secret";
  const adminAuth = "Basic " + Buffer.from(`${adminEmail}:${adminPassword}`).toString("base64");
  const keyAuth = (key: string) => "Basic " + Buffer.from(`apikey:${key}`).toString("base64");
  /** The admin's own key: admin calls without a bcrypt (cost 12) comparison each time. */
  let admin = "";
  const post = async (server: ChildServer, query: string, authorization: string, variables?: Record<string, unknown>) => {
    const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify({ query, variables }) });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // The admin exists before either instance starts, so both can start at once.
    const silent = pino({ level: "silent" });
    await new UserService(db.dataSource, new AuditService(db.dataSource, silent), new RevocationEpoch(db.dataSource, { windowMs: 0, maxEntries: 1 }, silent), new PasswordHasher(4)).create({ email: adminEmail, password: adminPassword, isAdmin: true });
    const env = { DATABASE_URL: db.url, LAST_USED_MIN_INTERVAL_MS: "0", LAST_USED_FLUSH_INTERVAL_MS: "200" };
    [a, b] = await Promise.all([startChildServer(env), startChildServer(env)]);
    expect((await post(a, "mutation { updateExternalToolSettings(input: { apiKeysEnabled: true }) { apiKeysEnabled } }", adminAuth)).status).toBe(200);
    admin = keyAuth((await post(a, "mutation { generateApiKey(description: \"admin driver\") { key } }", adminAuth)).body.data.generateApiKey.key);
  }, 120_000);
  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await db.destroy();
    expect(codes).toEqual([0, 0]);
    for (const server of [a, b]) {
      expect(server.output()).not.toContain(adminPassword);
      expect(server.output()).not.toMatch(KEY_SHAPE);
    }
  });

  test("the two instances listen on different ports", () => {
    expect(a.url).not.toBe(b.url);
  });

  test("a key generated on A works on B at once; revoked on A, it fails on B on the very next request", async () => {
    const generated = await post(a, "mutation { generateApiKey(description: \"shared\") { key apiKey { id } } }", admin);
    const { key, apiKey } = generated.body.data.generateApiKey;
    const onB = await post(b, "{ me { email } }", keyAuth(key));
    expect(onB.status).toBe(200);
    expect(onB.body.data.me.email).toBe(adminEmail);

    expect((await post(a, "mutation ($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", admin, { ids: [apiKey.id] })).body.data.revokeApiKeys).toBe(1);
    const afterRevoke = await post(b, "{ me { email } }", keyAuth(key));
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.errors[0].extensions.reason).toBe("INVALID");
  });

  test("lastUsedAt updates from both instances are kept", async () => {
    const generate = async (server: ChildServer, description: string) => {
      const result = await post(server, "mutation ($description: String) { generateApiKey(description: $description) { key apiKey { id } } }", admin, { description });
      // Named on failure: a bare "cannot read generateApiKey of null" once hid the cause here.
      if (!result.body.data?.generateApiKey) throw new Error(`generateApiKey: HTTP ${result.status} ${JSON.stringify(result.body.errors)}`);
      return result.body.data.generateApiKey;
    };
    const one = await generate(a, "used on A");
    const two = await generate(b, "used on B");
    expect((await post(a, "{ me { email } }", keyAuth(one.key))).status).toBe(200);
    expect((await post(b, "{ me { email } }", keyAuth(two.key))).status).toBe(200);
    // Each instance writes its own pending uses (flush every 200 ms here); neither overwrites the other.
    let rows: Array<{ id: number; last_used_at: unknown }> = [];
    for (let i = 0; i < 50; i++) {
      rows = await db.dataSource.query("SELECT id, last_used_at FROM api_keys WHERE id IN (?, ?) ORDER BY id", [Number(one.apiKey.id), Number(two.apiKey.id)]);
      if (rows.length === 2 && rows.every((row) => row.last_used_at !== null)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rows.map((row) => fromSqlDateTime(row.last_used_at) instanceof Date)).toEqual([true, true]);
    const listed = await post(b, "{ apiKeys(filter: { descriptionContains: \"used on\" }) { nodes { description lastUsedAt } } }", admin);
    expect(listed.body.data.apiKeys.nodes.every((n: { lastUsedAt: string | null }) => n.lastUsedAt !== null)).toBe(true);
  });

  test("brute-force counters are per instance (documented): failures on A do not throttle B", async () => {
    // Default limit 20 a minute per IP. Exhaust it on A.
    for (let i = 0; i < 20; i++) expect((await post(a, "{ me { email } }", keyAuth("xta_wrong"))).status).toBe(401);
    expect((await post(a, "{ me { email } }", keyAuth("xta_wrong"))).status).toBe(429);
    expect((await post(b, "{ me { email } }", keyAuth("xta_wrong"))).status).toBe(401);
  });
});
