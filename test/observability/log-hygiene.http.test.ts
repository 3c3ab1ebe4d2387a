import { createHash } from "node:crypto";
import { basic, startTestApp, type TestApp, viaKey } from "../support/app";

describe("log lines: no SQL or parameters of driver errors, no raw bidi or invisible characters", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  test("a failing key lookup is logged without its statement or the key's hash", async () => {
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(alice);
    const keyHash = createHash("sha256").update(key).digest("hex");
    const before = app.logLines.length;
    // The table the lookup reads is away: the driver's error carries the SQL and the key's hash.
    await app.db.dataSource.query("ALTER TABLE api_keys RENAME TO api_keys_away");
    try {
      const result = await app.graphql("{ me { email } }", {}, viaKey(key));
      expect(result.status).toBeGreaterThanOrEqual(500);
    } finally {
      await app.db.dataSource.query("ALTER TABLE api_keys_away RENAME TO api_keys");
    }
    const logged = app.logLines.slice(before).join("");
    expect(logged).toMatch(/"level":50/);
    expect(logged).toContain("[redacted]");
    expect(logged).not.toContain(keyHash);
    expect(logged).not.toMatch(/SELECT|"parameters":\[/);
  });

  test("an account stored before such emails were refused logs in, and its email is logged escaped", async () => {
    const legacy = await app.createUser("legacy@example.org");
    const email = "\u202egro.x@live";
    await app.db.dataSource.query("UPDATE users SET email = ? WHERE id = ?", [email, legacy.id]);
    const before = app.logLines.length;
    expect((await app.graphql("{ me { email } }", {}, basic(email, legacy.password))).status).toBe(200);
    const line = app.logLines.slice(before).find((text) => text.includes('"msg":"request"'));
    expect(line).toBeDefined();
    expect(line).not.toContain("\u202e");
    expect(line).toContain("\\u202e");
    expect(JSON.parse(line!).email).toBe(email);
  });
});
