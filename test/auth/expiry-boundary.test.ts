import { Authenticator } from "../../src/auth/authenticator";
import { toSqlDateTime } from "../../src/db/data-source";
import { startTestApp, type TestApp, type TestUser } from "../support/app";

/**
 * A key is expired from the instant of its expiresAt on: at expiresAt it no longer works, one
 * millisecond before it still does. Time comes from the clock each call is given.
 */
describe("expiry at the boundary", () => {
  let app: TestApp;
  let alice: TestUser;
  let authenticator: Authenticator;
  const expiresAt = new Date("2030-06-01T12:00:00.250Z");

  beforeAll(async () => {
    app = await startTestApp();
    const { services } = app;
    // Keys only: the password and session collaborators are never reached.
    authenticator = new Authenticator(app.db.dataSource, services.lastUsed, services.apiKeys, services.revocations.cache, services.keyTags, {} as never, {} as never);
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  async function keyExpiringAt(at: Date): Promise<{ key: string; id: string }> {
    const generated = await app.generateKey(alice, { description: "boundary" });
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", [toSqlDateTime(at), Number(generated.id)]);
    return generated;
  }
  const authenticateAt = (key: string, now: Date) => Promise.resolve(authenticator.authenticate({ kind: "apikey", key, via: "basic" }, now));

  test("one millisecond before expiresAt: accepted; at expiresAt and after: EXPIRED", async () => {
    const { key } = await keyExpiringAt(expiresAt);
    await expect(authenticateAt(key, new Date(expiresAt.getTime() - 1))).resolves.toMatchObject({ ok: true, identity: { email: alice.email } });
    await expect(authenticateAt(key, expiresAt)).resolves.toMatchObject({ ok: false, reason: "EXPIRED" });
    await expect(authenticateAt(key, new Date(expiresAt.getTime() + 1))).resolves.toMatchObject({ ok: false, reason: "EXPIRED" });
  });

  test("the expired filter agrees: at expiresAt the key is expired, a millisecond before it is not", async () => {
    const { id } = await keyExpiringAt(expiresAt);
    const ids = async (expired: boolean, now: Date) => (await app.services.apiKeys.list({ filter: { expired } }, now)).nodes.map((key) => String(key.id));
    expect(await ids(true, new Date(expiresAt.getTime() - 1))).toEqual([]);
    expect(await ids(false, new Date(expiresAt.getTime() - 1))).toEqual([id]);
    expect(await ids(true, expiresAt)).toEqual([id]);
    expect(await ids(false, expiresAt)).toEqual([]);
  });
});
