import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const ROTATE = `mutation($id: ID!, $overlapSeconds: Int, $idempotencyKey: String) {
  rotateApiKey(id: $id, overlapSeconds: $overlapSeconds, idempotencyKey: $idempotencyKey) { key apiKey { id description readOnly owner { email } } }
}`;
const GENERATE = `mutation($description: String, $idempotencyKey: String) {
  generateApiKey(description: $description, idempotencyKey: $idempotencyKey) { key apiKey { id description } }
}`;
const REVOKE_WHERE = "mutation($filter: ApiKeyFilter!, $dryRun: Boolean) { revokeApiKeysWhere(filter: $filter, dryRun: $dryRun) }";
const ME = "{ me { email } }";
const DAY = 24 * 3600_000;

describe("key lifecycle: rotation, idempotent retries, bulk revoke", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);
  const keyCount = async () => (await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys"))[0].n * 1;

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
    bob = await app.createUser("bob@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  describe("rotateApiKey", () => {
    test("overlap 0: a new key with the same owner, description and readOnly; the old key stops at once", async () => {
      const old = await app.generateKey(alice, { description: "ci runner", readOnly: true });
      const result = await app.graphql(ROTATE, { id: old.id }, as(alice));
      const rotated = result.body.data.rotateApiKey;
      expect(rotated.apiKey).toMatchObject({ description: "ci runner", readOnly: true, owner: { email: alice.email } });
      expect(rotated.key).not.toBe(old.key);
      expect((await app.graphql(ME, undefined, viaKey(old.key))).status).toBe(401);
      expect((await app.graphql(ME, undefined, viaKey(rotated.key))).body.data.me.email).toBe(alice.email);
      expect(await keyCount()).toBe(1);
    });

    test("with overlap: both keys work until the new key's first use, then only the new one", async () => {
      const old = await app.generateKey(alice);
      const rotated = (await app.graphql(ROTATE, { id: old.id, overlapSeconds: 3600 }, as(alice))).body.data.rotateApiKey;
      expect((await app.graphql(ME, undefined, viaKey(old.key))).status).toBe(200);
      expect((await app.graphql(ME, undefined, viaKey(old.key))).status).toBe(200);
      expect((await app.graphql(ME, undefined, viaKey(rotated.key))).status).toBe(200); // first use
      const after = await app.graphql(ME, undefined, viaKey(old.key));
      expect(after.status).toBe(401);
      expect(after.body.errors![0].extensions!.reason).toBe("INVALID");
      expect((await app.graphql(ME, undefined, viaKey(rotated.key))).status).toBe(200);
    });

    test("with overlap: the old key stops when the overlap ends, even if the new key is never used: 401 ROTATED, not EXPIRED", async () => {
      const actor = { userId: alice.id, email: alice.email, isAdmin: false, ip: null };
      const inOverlap = await app.generateKey(alice);
      app.secrets.add((await app.services.apiKeys.rotate(actor, { id: inOverlap.id, overlapSeconds: 60 }, new Date(Date.now() - 59_000))).key);
      expect((await app.graphql(ME, undefined, viaKey(inOverlap.key))).status).toBe(200);
      // Rotated by a clock 61 s back with a 60 s overlap: the overlap ended a second ago.
      const ended = await app.generateKey(alice);
      app.secrets.add((await app.services.apiKeys.rotate(actor, { id: ended.id, overlapSeconds: 60 }, new Date(Date.now() - 61_000))).key);
      const after = await app.graphql(ME, undefined, viaKey(ended.key));
      expect(after.status).toBe(401);
      expect(after.body.errors![0].extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "ROTATED", hint: expect.stringMatching(/replaced by rotation/) });
      expect(after.body.errors![0].extensions!.hint).not.toMatch(/Generate a new one/);
    });

    test("with overlap: the overlap's end is stored as the old key's expiry, to the millisecond", async () => {
      const old = await app.generateKey(alice);
      const result = await app.graphql(ROTATE, { id: old.id, overlapSeconds: 90 }, as(alice));
      expect(result.status).toBe(200);
      const listed = (await app.graphql("{ myApiKeys { id createdAt expiresAt } }", undefined, as(alice))).body.data.myApiKeys as Array<{ id: string; createdAt: string; expiresAt: string }>;
      const rotatedAt = new Date(listed.find((k) => k.id === result.body.data.rotateApiKey.apiKey.id)!.createdAt).getTime();
      expect(new Date(listed.find((k) => k.id === old.id)!.expiresAt).getTime()).toBe(rotatedAt + 90_000);
    });

    test("an overlap never extends a key that expires sooner", async () => {
      const old = await app.generateKey(alice);
      const soon = new Date(Date.now() + 60_000);
      await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", [soon.toISOString().replace("T", " ").replace("Z", ""), Number(old.id)]);
      await app.graphql(ROTATE, { id: old.id, overlapSeconds: 86400 }, as(alice));
      const listed = (await app.graphql("{ myApiKeys { id expiresAt } }", undefined, as(alice))).body.data.myApiKeys;
      expect(listed.find((k: { id: string }) => k.id === old.id).expiresAt).toBe(soon.toISOString());
    });

    test("another user's key: NOT_FOUND for a non-admin, allowed for an admin (owner kept)", async () => {
      const bobs = await app.generateKey(bob, { description: "bob's" });
      expect(errorCode(await app.graphql(ROTATE, { id: bobs.id }, as(alice)))).toBe("NOT_FOUND");
      expect((await app.graphql(ME, undefined, viaKey(bobs.key))).status).toBe(200);
      const byAdmin = (await app.graphql(ROTATE, { id: bobs.id }, as(admin))).body.data.rotateApiKey;
      expect(byAdmin.apiKey.owner.email).toBe(bob.email);
      expect((await app.graphql(ME, undefined, viaKey(byAdmin.key))).body.data.me.email).toBe(bob.email);
    });

    test("bad overlap, unknown id, keys disabled: refused, nothing changes", async () => {
      const old = await app.generateKey(alice);
      expect(errorCode(await app.graphql(ROTATE, { id: old.id, overlapSeconds: -1 }, as(alice)))).toBe("BAD_USER_INPUT");
      expect(errorCode(await app.graphql(ROTATE, { id: "999999" }, as(alice)))).toBe("NOT_FOUND");
      await app.setKeysEnabled(false);
      expect(errorCode(await app.graphql(ROTATE, { id: old.id }, as(alice)))).toBe("FORBIDDEN");
      expect(await keyCount()).toBe(1);
      expect((await app.graphql(ME, undefined, viaKey(old.key))).status).toBe(200);
    });
  });

  describe("idempotent retries", () => {
    const idempotencyKey = "3f0b1c1e-8d7e-4c53-9a55-8b1f6a4f2a10";

    test("generateApiKey retried with the same idempotencyKey returns the same key and makes one row", async () => {
      const first = await app.graphql(GENERATE, { description: "retry me", idempotencyKey }, as(alice));
      const second = await app.graphql(GENERATE, { description: "retry me", idempotencyKey }, as(alice));
      expect(second.body.data.generateApiKey).toEqual(first.body.data.generateApiKey);
      expect(await keyCount()).toBe(1);
      expect((await app.graphql(ME, undefined, viaKey(first.body.data.generateApiKey.key))).status).toBe(200);
    });

    test("concurrent retries with one idempotencyKey make one key", async () => {
      const results = await Promise.all([1, 2, 3, 4].map(() => app.graphql(GENERATE, { description: "burst", idempotencyKey }, as(alice))));
      const keys = new Set(results.map((r) => r.body.data?.generateApiKey?.key));
      expect(keys.size).toBe(1);
      expect(await keyCount()).toBe(1);
    });

    test("the same idempotencyKey from another user is a different request", async () => {
      await app.graphql(GENERATE, { idempotencyKey }, as(alice));
      await app.graphql(GENERATE, { idempotencyKey }, as(bob));
      expect(await keyCount()).toBe(2);
    });

    test("reused with different arguments: BAD_USER_INPUT, no second key", async () => {
      await app.graphql(GENERATE, { description: "one", idempotencyKey }, as(alice));
      const result = await app.graphql(GENERATE, { description: "two", idempotencyKey }, as(alice));
      expect(errorCode(result)).toBe("BAD_USER_INPUT");
      expect(await keyCount()).toBe(1);
    });

    test("after ten minutes the same idempotencyKey makes a new key", async () => {
      await app.graphql(GENERATE, { idempotencyKey }, as(alice));
      await app.db.dataSource.query("UPDATE idempotent_results SET created_at = ?", [new Date(Date.now() - 11 * 60_000).toISOString().replace("T", " ").replace("Z", "")]);
      await app.graphql(GENERATE, { idempotencyKey }, as(alice));
      expect(await keyCount()).toBe(2);
    });

    test("a too-short idempotencyKey: BAD_USER_INPUT", async () => {
      expect(errorCode(await app.graphql(GENERATE, { idempotencyKey: "1" }, as(alice)))).toBe("BAD_USER_INPUT");
      expect(await keyCount()).toBe(0);
    });

    test("rotateApiKey retried returns the same new key and revokes the old one once", async () => {
      const old = await app.generateKey(alice);
      const first = await app.graphql(ROTATE, { id: old.id, idempotencyKey }, as(alice));
      const second = await app.graphql(ROTATE, { id: old.id, idempotencyKey }, as(alice));
      expect(second.body.data.rotateApiKey.key).toBe(first.body.data.rotateApiKey.key);
      expect(await keyCount()).toBe(1);
      const rotations = await app.db.dataSource.query("SELECT id FROM audit_events WHERE action = 'API_KEY_ROTATED'");
      expect(rotations).toHaveLength(1);
    });

    test("the stored result holds no key in clear", async () => {
      const { key } = (await app.graphql(GENERATE, { idempotencyKey }, as(alice))).body.data.generateApiKey;
      const stored = JSON.stringify(await app.db.dataSource.query("SELECT * FROM idempotent_results"));
      expect(stored).not.toContain(key);
      expect(stored).not.toContain(key.slice(4, 30));
      expect(stored).not.toContain(idempotencyKey);
    });
  });

  describe("revokeApiKeysWhere", () => {
    test("dry run (the default) counts and changes nothing", async () => {
      await app.generateKey(alice);
      await app.generateKey(bob);
      const result = await app.graphql(REVOKE_WHERE, { filter: { ownerEmail: "alice@example.org" } }, as(admin));
      expect(result.body.data.revokeApiKeysWhere).toBe(1);
      expect(await keyCount()).toBe(2);
      expect(await app.db.dataSource.query("SELECT id FROM audit_events WHERE action = 'API_KEYS_REVOKED'")).toEqual([]);
    });

    test("every key unused for 90 days: revoked, others untouched, one audit event with count and ids", async () => {
      const stale = await app.generateKey(alice);
      const fresh = await app.generateKey(bob);
      const sqlTime = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");
      await app.db.dataSource.query("UPDATE api_keys SET created_at = ?, last_used_at = ? WHERE id = ?", [sqlTime(new Date(Date.now() - 200 * DAY)), sqlTime(new Date(Date.now() - 120 * DAY)), Number(stale.id)]);
      const result = await app.graphql(REVOKE_WHERE, { filter: { unusedSince: new Date(Date.now() - 90 * DAY).toISOString(), createdBefore: new Date(Date.now() - 90 * DAY).toISOString() }, dryRun: false }, as(admin));
      expect(result.body.data.revokeApiKeysWhere).toBe(1);
      expect((await app.graphql(ME, undefined, viaKey(stale.key))).status).toBe(401);
      expect((await app.graphql(ME, undefined, viaKey(fresh.key))).status).toBe(200);
      const [event] = await app.db.dataSource.query("SELECT actor_email, detail, key_id FROM audit_events WHERE action = 'API_KEYS_REVOKED'");
      expect(event.actor_email).toBe(admin.email);
      expect(event.detail).toContain(`revoked 1 key(s)`);
      expect(Number(event.key_id)).toBe(Number(stale.id));
    });

    test("every key of one user", async () => {
      await app.generateKey(alice);
      await app.generateKey(alice);
      const bobs = await app.generateKey(bob);
      expect((await app.graphql(REVOKE_WHERE, { filter: { ownerEmail: "ALICE@example.org" }, dryRun: false }, as(admin))).body.data.revokeApiKeysWhere).toBe(2);
      expect(await keyCount()).toBe(1);
      expect((await app.graphql(ME, undefined, viaKey(bobs.key))).status).toBe(200);
      // Several keys: the event names them in its detail, not as its one key.
      const [event] = await app.db.dataSource.query("SELECT detail, key_id FROM audit_events WHERE action = 'API_KEYS_REVOKED'");
      expect({ keyId: event.key_id, detail: event.detail }).toEqual({ keyId: null, detail: expect.stringContaining("revoked 2 key(s)") });
    });

    test("non-admin: FORBIDDEN", async () => {
      await app.generateKey(alice);
      expect((await app.graphql(REVOKE_WHERE, { filter: {}, dryRun: false }, as(alice))).status).toBe(403);
      expect(await keyCount()).toBe(1);
    });
  });
});
