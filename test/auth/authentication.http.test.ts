import { hashApiKey } from "../../src/keys/api-key-format";
import { PERMISSION_DENIED_MESSAGE } from "../../src/errors";
import { basic, type Credentials, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const ME = "{ me { id email } }";

describe("authentication over HTTP", () => {
  let app: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  async function expectUnauthenticated(credentials: Credentials | undefined, reason: string, query = ME) {
    const result = await app.graphql(query, undefined, credentials);
    expect(result.status).toBe(401);
    expect(result.headers.get("www-authenticate")).toMatch(/^Basic realm="[^"]+"/);
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0].message).toBe(PERMISSION_DENIED_MESSAGE);
    expect(result.body.errors![0].extensions).toMatchObject({ code: "UNAUTHENTICATED", reason });
    expect(result.body.data ?? null).toBeNull();
  }

  test("valid key in Basic auth: authenticates as its owner", async () => {
    const { key } = await app.generateKey(alice);
    const result = await app.graphql(ME, undefined, viaKey(key));
    expect(result.status).toBe(200);
    expect(result.body.data.me).toEqual({ id: String(alice.id), email: "alice@example.org" });
  });

  test("username apikey is case-insensitive", async () => {
    const { key } = await app.generateKey(alice);
    const result = await app.graphql(ME, undefined, basic("APIKey", key));
    expect(result.body.data.me.email).toBe("alice@example.org");
  });

  test("valid key in the apikey header: authenticates as its owner", async () => {
    const { key } = await app.generateKey(alice);
    const result = await app.graphql(ME, undefined, { apikey: key });
    expect(result.status).toBe(200);
    expect(result.body.data.me.email).toBe("alice@example.org");
  });

  test("both Basic and apikey header: Basic wins", async () => {
    const bob = await app.createUser("bob@example.org");
    const aliceKey = await app.generateKey(alice);
    const bobKey = await app.generateKey(bob);
    const result = await app.graphql(ME, undefined, { ...viaKey(aliceKey.key), apikey: bobKey.key });
    expect(result.body.data.me.email).toBe("alice@example.org");
    await expectUnauthenticated({ basic: ["apikey", "xta_nonsense"], apikey: bobKey.key }, "MALFORMED");
  });

  test("email and password in Basic auth: authenticates", async () => {
    const result = await app.graphql(ME, undefined, basic("Alice@Example.org", alice.password));
    expect(result.status).toBe(200);
    expect(result.body.data.me.email).toBe("alice@example.org");
  });

  test("a user may hold several keys and use them at the same time", async () => {
    const keys = await Promise.all([1, 2, 3].map((n) => app.generateKey(alice, { description: `key ${n}` })));
    const results = await Promise.all(keys.map(({ key }) => app.graphql(ME, undefined, viaKey(key))));
    expect(results.map((r) => r.body.data.me.email)).toEqual(["alice@example.org", "alice@example.org", "alice@example.org"]);
  });

  test("no credentials: public settings are readable", async () => {
    const result = await app.graphql("{ externalToolSettings { apiKeysEnabled apiKeyExpiration sessionKeysEnabled } }");
    expect(result.status).toBe(200);
    expect(result.body.data.externalToolSettings).toEqual({ apiKeysEnabled: true, apiKeyExpiration: "NEVER", sessionKeysEnabled: false });
  });

  test("no credentials: introspection works", async () => {
    const result = await app.graphql("{ __schema { queryType { name } } }");
    expect(result.status).toBe(200);
    expect(result.body.data.__schema.queryType.name).toBe("Query");
  });

  test("no credentials: anything else is 401 MISSING", async () => {
    await expectUnauthenticated(undefined, "MISSING");
    await expectUnauthenticated(undefined, "MISSING", "mutation { generateApiKey { key } }");
    await expectUnauthenticated(undefined, "MISSING", "{ apiKeys { totalCount } }");
  });

  test("bad credentials: 401 even for a public query", async () => {
    await expectUnauthenticated(basic("apikey", "xta_broken"), "MALFORMED", "{ externalToolSettings { apiKeysEnabled } }");
    await expectUnauthenticated(basic(alice.email, "wrong password"), "INVALID", "{ externalToolSettings { apiKeysEnabled } }");
  });

  test("expired key: 401 EXPIRED", async () => {
    const { key, id } = await app.generateKey(alice);
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", ["2020-01-01 00:00:00.000", Number(id)]);
    await expectUnauthenticated(viaKey(key), "EXPIRED");
  });

  test("revoked key: 401 INVALID on the very next request", async () => {
    const admin = await app.createUser("admin@example.org", { isAdmin: true });
    const { key, id } = await app.generateKey(alice);
    expect((await app.graphql(ME, undefined, viaKey(key))).status).toBe(200);
    const revoked = await app.graphql("mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [id] }, basic(admin.email, admin.password));
    expect(revoked.body.data.revokeApiKeys).toBe(1);
    await expectUnauthenticated(viaKey(key), "INVALID");
  });

  test("key deleted by its owner: 401 INVALID", async () => {
    const { key, id } = await app.generateKey(alice);
    await app.graphql("mutation($id: ID!) { deleteMyApiKey(id: $id) }", { id }, viaKey(key));
    await expectUnauthenticated(viaKey(key), "INVALID");
  });

  test("unknown well-formed key: 401 INVALID", async () => {
    const { key } = await app.generateKey(alice);
    await app.db.dataSource.query("DELETE FROM api_keys");
    await expectUnauthenticated(viaKey(key), "INVALID");
  });

  test("owner deactivated: key and password 401 INVALID; reactivation restores both", async () => {
    const admin = await app.createUser("admin@example.org", { isAdmin: true });
    const { key } = await app.generateKey(alice);
    const setActive = (active: boolean) =>
      app.graphql("mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { active } }", { id: String(alice.id), active }, basic(admin.email, admin.password));
    expect((await setActive(false)).body.data.setUserActive.active).toBe(false);
    await expectUnauthenticated(viaKey(key), "INVALID");
    await expectUnauthenticated(basic(alice.email, alice.password), "INVALID");
    expect((await setActive(true)).body.data.setUserActive.active).toBe(true);
    expect((await app.graphql(ME, undefined, viaKey(key))).status).toBe(200);
    expect((await app.graphql(ME, undefined, basic(alice.email, alice.password))).status).toBe(200);
  });

  test("legacy apikey| prefix: 401 LEGACY_PREFIX", async () => {
    const { key } = await app.generateKey(alice);
    await expectUnauthenticated(viaKey(`apikey|${key}`), "LEGACY_PREFIX");
    await expectUnauthenticated({ apikey: `apikey|${key}` }, "LEGACY_PREFIX");
  });

  test("checksum-broken key: 401 MALFORMED", async () => {
    const { key } = await app.generateKey(alice);
    const last = key[key.length - 1];
    await expectUnauthenticated(viaKey(key.slice(0, -1) + (last === "a" ? "b" : "a")), "MALFORMED");
  });

  test("key with an extra character: 401 MALFORMED", async () => {
    const { key } = await app.generateKey(alice);
    await expectUnauthenticated(viaKey(key + "x"), "MALFORMED");
  });

  test("wrong password and unknown email: both 401 INVALID", async () => {
    await expectUnauthenticated(basic(alice.email, "not the password"), "INVALID");
    await expectUnauthenticated(basic("nobody@example.org", "whatever-password"), "INVALID");
  });

  test.each([
    ["malformed base64", "Basic !!!notbase64!!!"],
    ["base64 without padding", "Basic " + Buffer.from("apikey:abcde").toString("base64").replace(/=+$/, "")],
    ["missing colon", "Basic " + Buffer.from("apikey").toString("base64")],
    ["empty password", "Basic " + Buffer.from("apikey:").toString("base64")],
    ["empty username", "Basic " + Buffer.from(":secret").toString("base64")],
    ["non-Basic scheme", "Bearer xta_0000000000000000000000000000000000000000000000000"],
    ["scheme without value", "Basic"],
    ["bytes that are not UTF-8", "Basic " + Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString("base64")],
    ["a header of 100 KB", "Basic " + Buffer.from("apikey:" + "x".repeat(100 * 1024)).toString("base64")],
  ])("%s: 401 MALFORMED", async (_case, authorization) => {
    await expectUnauthenticated({ headers: { authorization } }, "MALFORMED");
  });

  test("empty apikey header: 401 MALFORMED", async () => {
    await expectUnauthenticated({ headers: { apikey: " " } }, "MALFORMED");
  });

  test("non-admin calling an admin operation: 403 FORBIDDEN", async () => {
    const { key } = await app.generateKey(alice);
    const result = await app.graphql("{ apiKeys { totalCount } }", undefined, viaKey(key));
    expect(result.status).toBe(403);
    expect(result.body.errors![0]).toMatchObject({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "FORBIDDEN" } });
    const revoke = await app.graphql("mutation { revokeAllApiKeys }", undefined, viaKey(key));
    expect(revoke.status).toBe(403);
  });

  test("read-only key: queries work, mutations 403 FORBIDDEN", async () => {
    const { key } = await app.generateKey(alice, { readOnly: true });
    expect((await app.graphql("{ me { email } myApiKeys { readOnly } }", undefined, viaKey(key))).body.data.myApiKeys).toEqual([{ readOnly: true }]);
    const result = await app.graphql("mutation { generateApiKey { key } }", undefined, viaKey(key));
    expect(result.status).toBe(403);
    expect(result.body.errors![0]).toMatchObject({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "FORBIDDEN" } });
    expect(await app.db.dataSource.query("SELECT id FROM api_keys")).toHaveLength(1);
  });

  test("the database holds only the key's hash, never the key", async () => {
    const { key } = await app.generateKey(alice, { description: "hash check" });
    const rows: Array<Record<string, unknown>> = await app.db.dataSource.query("SELECT * FROM api_keys");
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key.slice(8, 40));
    expect(rows[0].key_hash).toBe(hashApiKey(key));
  });

  test("lastUsedAt: recorded in memory, written by the flush, at most once a minute", async () => {
    const { key, id } = await app.generateKey(alice);
    for (let i = 0; i < 5; i++) await app.graphql(ME, undefined, viaKey(key));
    const before = await app.db.dataSource.query("SELECT last_used_at FROM api_keys WHERE id = ?", [Number(id)]);
    expect(before[0].last_used_at).toBeNull(); // no write on the request path
    expect(app.services.lastUsed.pendingCount).toBe(1); // five uses, one pending write
    await app.services.lastUsed.flush();
    const listed = await app.graphql("{ myApiKeys { lastUsedAt } }", undefined, viaKey(key));
    const lastUsedAt = new Date(listed.body.data.myApiKeys[0].lastUsedAt);
    expect(Math.abs(Date.now() - lastUsedAt.getTime())).toBeLessThan(60_000);
    // Used again within the minute: nothing new is queued.
    await app.graphql(ME, undefined, viaKey(key));
    expect(app.services.lastUsed.pendingCount).toBe(0);
  });

  test("failed authentication is logged with its reason, never the presented secret", async () => {
    const presented = "xta_" + "Q".repeat(49);
    await app.graphql(ME, undefined, viaKey(presented));
    const line = app.logLines.map((text) => JSON.parse(text)).find((entry) => entry.authFailure === "MALFORMED");
    expect(line).toMatchObject({ status: 401, path: "/graphql" });
    expect(app.logLines.join("\n")).not.toContain(presented);
  });
});
