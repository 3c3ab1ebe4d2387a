import { RevocationEpoch } from "../../src/keys/revocation-epoch";
import pino from "pino";
import { fromSqlDateTime } from "../../src/db/data-source";
import { AuditService } from "../../src/services/audit.service";
import { UserService } from "../../src/services/user.service";
import { PasswordHasher } from "../../src/services/password-hasher";
import { type ChildServer, startChildServer } from "../support/child-server";
import { createTestDatabase, type TestDatabase } from "../support/database";

const KEY_SHAPE = /xta_[0-9A-Za-z]{49}/;
const ME = "{ me { email } }";

/** Two real server processes on different ports sharing one database (the only shared state). */
describe("several instances sharing one database", () => {
  let db: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  /** Writes users straight to the database, hashed at cost 4: the instances compare them fast. */
  let users: UserService;
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
    users = new UserService(db.dataSource, new AuditService(db.dataSource, silent), new RevocationEpoch(db.dataSource, { windowMs: 0, maxEntries: 1 }, silent), new PasswordHasher(4));
    await users.create({ email: adminEmail, password: adminPassword, isAdmin: true });
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

  test("a key generated on A works on B at once", async () => {
    const generated = await post(a, "mutation { generateApiKey(description: \"shared\") { key } }", admin);
    const onB = await post(b, ME, keyAuth(generated.body.data.generateApiKey.key));
    expect(onB.status).toBe(200);
    expect(onB.body.data.me.email).toBe(adminEmail);
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

  /**
   * Every operation that ends a key, run on A; B, which served the key from its cache a moment
   * before, must refuse it on the very next request. What ends a login session and its session
   * keys (logout, a password change, ...) has its own table in session-instances.test.ts.
   */
  describe("every revoking path: ended on A, refused on B on the very next request", () => {
    interface Subject {
      owner: { email: string; id: number; auth: string };
      key: string;
      id: string;
      description: string;
    }
    interface Row {
      path: string;
      /** Ends the subject's key on A; may return the reason B must give (default INVALID). */
      end(subject: Subject): Promise<"INVALID" | "EXPIRED" | "ROTATED" | void>;
    }
    const ok = <T>(result: { status: number; body: any }, field: string): T => {
      if (result.status !== 200 || result.body.errors) throw new Error(`${field}: HTTP ${result.status} ${JSON.stringify(result.body.errors)}`);
      return result.body.data[field];
    };
    const rotate = async (subject: Subject, overlapSeconds: number) =>
      ok<{ key: string }>(await post(a, "mutation ($id: ID!, $o: Int) { rotateApiKey(id: $id, overlapSeconds: $o) { key } }", subject.owner.auth, { id: subject.id, o: overlapSeconds }), "rotateApiKey");

    const rows: Row[] = [
      {
        path: "deleteMyApiKey",
        end: async ({ owner, id }) => void expect(ok(await post(a, "mutation ($id: ID!) { deleteMyApiKey(id: $id) }", owner.auth, { id }), "deleteMyApiKey")).toBe(true),
      },
      {
        path: "revokeApiKeys",
        end: async ({ id }) => void expect(ok(await post(a, "mutation ($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", adminAuth, { ids: [id] }), "revokeApiKeys")).toBe(1),
      },
      {
        path: "revokeApiKeysWhere",
        end: async ({ description }) =>
          void expect(ok(await post(a, "mutation ($d: String) { revokeApiKeysWhere(filter: { descriptionContains: $d }, dryRun: false) }", adminAuth, { d: description }), "revokeApiKeysWhere")).toBe(1),
      },
      {
        path: "revokeAllApiKeys",
        end: async () => void expect(ok(await post(a, "mutation { revokeAllApiKeys }", adminAuth), "revokeAllApiKeys")).toBeGreaterThanOrEqual(1),
      },
      {
        path: "rotateApiKey without overlap",
        end: async (subject) => {
          const { key } = await rotate(subject, 0);
          expect((await post(b, ME, keyAuth(key))).status).toBe(200);
        },
      },
      {
        // Two processes cannot share an injected clock: this row waits out a one-second overlap.
        path: "rotateApiKey with overlap, once the overlap ends",
        end: async (subject) => {
          await rotate(subject, 1);
          // During the overlap B serves the old key, with the shortened expiry it read after the bump.
          expect((await post(b, ME, keyAuth(subject.key))).status).toBe(200);
          const [row] = await db.dataSource.query("SELECT expires_at FROM api_keys WHERE id = ?", [Number(subject.id)]);
          const retireAt = fromSqlDateTime(row.expires_at)!.getTime();
          while (Date.now() <= retireAt) await new Promise((resolve) => setTimeout(resolve, retireAt + 1 - Date.now()));
          // Its own reason, not EXPIRED: the key has a successor to use.
          return "ROTATED";
        },
      },
      {
        path: "first use of the new key after a rotation with overlap",
        end: async (subject) => {
          const { key } = await rotate(subject, 3600);
          expect((await post(b, ME, keyAuth(subject.key))).status).toBe(200); // the overlap: still served
          expect((await post(a, ME, keyAuth(key))).status).toBe(200); // the first use ends it
        },
      },
      {
        path: "setUserActive(active: false)",
        end: async ({ owner }) =>
          void expect(ok<{ active: boolean }>(await post(a, "mutation ($id: ID!) { setUserActive(id: $id, active: false) { active } }", adminAuth, { id: String(owner.id) }), "setUserActive").active).toBe(false),
      },
      {
        path: "deleteUser",
        end: async ({ owner }) => void expect(ok(await post(a, "mutation ($id: ID!) { deleteUser(id: $id) }", adminAuth, { id: String(owner.id) }), "deleteUser")).toBe(true),
      },
    ];

    test.each(rows.map((row, index) => [row.path, row, index] as const))("%s", async (_path, row, index) => {
      const password = `row-${index}-Secret-pw`;
      const user = await users.create({ email: `row${index}@example.org`, password });
      const owner = { email: user.email, id: user.id, auth: "Basic " + Buffer.from(`${user.email}:${password}`).toString("base64") };
      const description = `ended by row ${index}`;
      const generated = ok<{ key: string; apiKey: { id: string } }>(await post(a, "mutation ($d: String) { generateApiKey(description: $d) { key apiKey { id } } }", owner.auth, { d: description }), "generateApiKey");
      const subject: Subject = { owner, key: generated.key, id: generated.apiKey.id, description };
      // B reads the key once and serves it from its cache from then on.
      for (let i = 0; i < 2; i++) expect((await post(b, ME, keyAuth(subject.key))).status).toBe(200);

      const reason = (await row.end(subject)) ?? "INVALID";

      const onB = await post(b, ME, keyAuth(subject.key));
      expect({ status: onB.status, reason: onB.body.errors?.[0]?.extensions?.reason }).toEqual({ status: 401, reason });
    });
  });

  test("brute-force counters are per instance (documented): failures on A do not throttle B", async () => {
    // Default limit 20 a minute per IP. Exhaust it on A.
    for (let i = 0; i < 20; i++) expect((await post(a, "{ me { email } }", keyAuth("xta_wrong"))).status).toBe(401);
    expect((await post(a, "{ me { email } }", keyAuth("xta_wrong"))).status).toBe(429);
    expect((await post(b, "{ me { email } }", keyAuth("xta_wrong"))).status).toBe(401);
  });
});
