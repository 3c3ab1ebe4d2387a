import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

/** Classic injection strings for both dialects, plus LIKE wildcards and escape characters. */
const PAYLOADS = [
  "'; DROP TABLE api_keys; --",
  "' OR '1'='1",
  '" OR ""="',
  "x') OR 1=1 --",
  "\\'; DELETE FROM users; #",
  "' UNION SELECT key_hash, password_hash FROM api_keys, users --",
  "1; UPDATE users SET is_admin = 1",
  "%",
  "_",
  "!%!_!!",
  "\\",
  "\\\\%",
  "Robert'); DROP TABLE users;--",
  "null",
  "0x27",
  "é中文😀",
];

describe("SQL injection through every string argument", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let aliceKey: string;

  const tableCounts = async () => ({
    users: Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM users"))[0].n),
    keys: Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys"))[0].n),
    admins: Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1"))[0].n),
  });

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    aliceKey = (await app.generateKey(alice, { description: "plain" })).key;
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  test("descriptions: stored and returned verbatim, no effect on other rows", async () => {
    const before = await tableCounts();
    for (const payload of PAYLOADS) {
      const result = await app.graphql("mutation ($d: String) { generateApiKey(description: $d) { apiKey { description } } }", { d: payload }, viaKey(aliceKey));
      expect(result.body.data.generateApiKey.apiKey.description).toBe(payload);
    }
    const listed = await app.graphql("{ myApiKeys { description } }", undefined, viaKey(aliceKey));
    expect(listed.body.data.myApiKeys.map((k: { description: string }) => k.description).sort()).toEqual([...PAYLOADS, "plain"].sort());
    const rows: Array<{ description: string }> = await app.db.dataSource.query("SELECT description FROM api_keys");
    expect(rows.map((r) => r.description).sort()).toEqual([...PAYLOADS, "plain"].sort());
    expect(await tableCounts()).toEqual({ ...before, keys: before.keys + PAYLOADS.length });
  });

  test("descriptionContains: wildcards and quotes match literally", async () => {
    for (const payload of PAYLOADS) {
      const result = await app.graphql("query ($f: ApiKeyFilter) { apiKeys(filter: $f, first: 500) { totalCount nodes { description } } }", { f: { descriptionContains: payload } }, basic(admin.email, admin.password));
      expect(result.status).toBe(200);
      const descriptions: string[] = result.body.data.apiKeys.nodes.map((n: { description: string }) => n.description);
      expect(descriptions.length).toBeGreaterThan(0);
      for (const description of descriptions) expect(description.toLowerCase()).toContain(payload.toLowerCase());
      expect(result.body.data.apiKeys.totalCount).toBe(descriptions.length);
    }
  });

  test("ownerEmail and cursors: injection finds nothing and changes nothing; a forged cursor is 400", async () => {
    const before = await tableCounts();
    for (const payload of PAYLOADS) {
      const byEmail = await app.graphql("query ($f: ApiKeyFilter) { apiKeys(filter: $f) { totalCount } }", { f: { ownerEmail: payload } }, basic(admin.email, admin.password));
      expect(byEmail.body.data.apiKeys.totalCount).toBe(0);
      const cursor = await app.graphql("query ($a: String) { apiKeys(after: $a) { totalCount } }", { a: payload }, basic(admin.email, admin.password));
      expect(cursor.status).toBe(400);
      expect(errorCode(cursor)).toBe("BAD_USER_INPUT");
      const encoded = await app.graphql("query ($a: String) { apiKeys(after: $a) { totalCount } }", { a: Buffer.from(payload).toString("base64url") }, basic(admin.email, admin.password));
      expect(encoded.status).toBe(400);
    }
    expect(await tableCounts()).toEqual(before);
  });

  test("emails and passwords: a user with quotes in both is created, logs in, and touches no other row", async () => {
    const before = await tableCounts();
    const email = "o'brien\"--@example.org";
    const password = "p'; DROP TABLE users; --";
    app.secrets.add(password);
    const created = await app.graphql(
      "mutation ($input: CreateUserInput!) { createUser(input: $input) { email isAdmin } }",
      { input: { email, password, displayName: "'); DELETE FROM api_keys; --" } },
      basic(admin.email, admin.password),
    );
    expect(created.body.data.createUser).toEqual({ email, isAdmin: false });
    expect((await app.graphql("{ me { email isAdmin } }", undefined, basic(email, password))).body.data.me).toEqual({ email, isAdmin: false });
    for (const payload of PAYLOADS) {
      expect((await app.graphql("{ me { email } }", undefined, basic(`${payload}@x`, payload))).status).toBe(401);
    }
    expect(await tableCounts()).toEqual({ ...before, users: before.users + 1 });
  });
});
