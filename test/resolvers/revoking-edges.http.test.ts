import { MAX_ROTATION_OVERLAP_SECONDS } from "../../src/services/api-key.service";
import { withAdminAndAlice } from "../support/admin-and-alice";
import { basic, errorCode, type TestApp, type TestUser, viaKey } from "../support/app";

const ROTATE = "mutation ($id: ID!, $overlapSeconds: Int) { rotateApiKey(id: $id, overlapSeconds: $overlapSeconds) { apiKey { id } } }";
const REVOKE = "mutation ($ids: [ID!]!) { revokeApiKeys(ids: $ids) }";

/** The edges of the operations that end a key: bounds, messages, and what a no-op leaves alone. */
describe("operations that end a key, at their edges", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  withAdminAndAlice((...users) => ([app, admin, alice] = users));
  const as = (user: TestUser) => basic(user.email, user.password);
  const generation = async () => String((await app.db.dataSource.query("SELECT generation FROM revocation_epoch WHERE id = 1"))[0].generation);
  const auditActions = async () => (await app.db.dataSource.query("SELECT action FROM audit_events ORDER BY id")).map((row: { action: string }) => row.action);

  test("rotation overlap: 30 days is accepted, one second more is refused with the bound in the message", async () => {
    const accepted = await app.generateKey(alice);
    expect(errorCode(await app.graphql(ROTATE, { id: accepted.id, overlapSeconds: MAX_ROTATION_OVERLAP_SECONDS }, as(alice)))).toBeUndefined();
    const refused = await app.generateKey(alice);
    const result = await app.graphql(ROTATE, { id: refused.id, overlapSeconds: MAX_ROTATION_OVERLAP_SECONDS + 1 }, as(alice));
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.body.errors![0].message).toBe(`overlapSeconds must be between 0 and ${MAX_ROTATION_OVERLAP_SECONDS}.`);
    expect(result.body.errors![0].extensions!.argumentName).toBe("overlapSeconds");
  });

  test("a key expiring at the very instant of the rotation counts as expired; a millisecond later it rotates", async () => {
    const { id } = await app.generateKey(alice);
    const expiresAt = new Date("2031-03-04T05:06:07.008Z");
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = '2031-03-04 05:06:07.008' WHERE id = ?", [id]);
    const actor = { userId: alice.id, email: alice.email, ip: null, isAdmin: false };
    await expect(app.services.apiKeys.rotate(actor, { id }, expiresAt)).rejects.toMatchObject({
      message: "This API key has expired and cannot be rotated. Generate a new key.",
      extensions: { code: "BAD_USER_INPUT", argumentName: "id" },
    });
    await expect(app.services.apiKeys.rotate(actor, { id }, new Date(expiresAt.getTime() - 1))).resolves.toMatchObject({ key: expect.any(String) });
  });

  test("rotation without an overlap: the new key replaces nothing, so its first use revokes nothing", async () => {
    const old = await app.generateKey(alice);
    const rotated = await app.graphql("mutation ($id: ID!) { rotateApiKey(id: $id) { key apiKey { id } } }", { id: old.id }, as(alice));
    const [row] = await app.db.dataSource.query("SELECT replaces_key_id FROM api_keys WHERE id = ?", [rotated.body.data.rotateApiKey.apiKey.id]);
    expect(row.replaces_key_id).toBeNull();
    const before = await generation();
    expect((await app.graphql("{ me { id } }", undefined, viaKey(rotated.body.data.rotateApiKey.key))).status).toBe(200);
    expect(await generation()).toBe(before);
  });

  test("the successor's first use retires the old key with an audit event; if the old key was revoked meanwhile, there is nothing to record", async () => {
    const retiredEvents = async () => app.db.dataSource.query("SELECT key_id, detail, details FROM audit_events WHERE action = 'ROTATED_KEY_RETIRED' ORDER BY id");
    const rotate = async () => {
      const old = await app.generateKey(alice);
      const rotated = await app.graphql("mutation ($id: ID!) { rotateApiKey(id: $id, overlapSeconds: 3600) { key apiKey { id } } }", { id: old.id }, as(alice));
      return { old, successor: rotated.body.data.rotateApiKey as { key: string; apiKey: { id: string } } };
    };
    const first = await rotate();
    expect((await app.graphql("{ me { id } }", undefined, viaKey(first.successor.key))).status).toBe(200);
    const events = await retiredEvents();
    expect(events).toHaveLength(1);
    expect(Number(events[0].key_id)).toBe(Number(first.old.id));
    expect(events[0].detail).toBe(`first use of key ${first.successor.apiKey.id} ended the rotation overlap`);
    expect(JSON.parse(events[0].details)).toEqual({ keyId: Number(first.old.id), successorKeyId: Number(first.successor.apiKey.id) });

    const second = await rotate();
    await app.graphql(REVOKE, { ids: [second.old.id] }, as(admin));
    expect((await app.graphql("{ me { id } }", undefined, viaKey(second.successor.key))).status).toBe(200);
    expect(await retiredEvents()).toHaveLength(1);
  });

  test("a key in its overlap cannot be rotated again, with or without an overlap: BAD_USER_INPUT naming the successor, the key unchanged", async () => {
    const old = await app.generateKey(alice);
    await app.graphql(ROTATE, { id: old.id, overlapSeconds: 3600 }, as(alice));
    const [before] = await app.db.dataSource.query("SELECT expires_at, replaced_by_key_id FROM api_keys WHERE id = ?", [old.id]);
    for (const overlapSeconds of [0, 60]) {
      const again = await app.graphql(ROTATE, { id: old.id, overlapSeconds }, as(alice));
      expect(again.body.errors![0]).toMatchObject({ message: "This API key was already rotated. Rotate its successor instead.", extensions: { code: "BAD_USER_INPUT", argumentName: "id" } });
    }
    expect(await app.db.dataSource.query("SELECT expires_at, replaced_by_key_id FROM api_keys WHERE id = ?", [old.id])).toEqual([before]);
  });

  test("rotation with an overlap: the old key's retirement is in the audit detail and details; without one, it is revoked at once", async () => {
    const overlapping = await app.generateKey(alice);
    await app.graphql(ROTATE, { id: overlapping.id, overlapSeconds: 60 }, as(alice));
    const immediate = await app.generateKey(alice);
    await app.graphql(ROTATE, { id: immediate.id, overlapSeconds: 0 }, as(alice));
    const rows: Array<{ detail: string; details: string }> = await app.db.dataSource.query("SELECT detail, details FROM audit_events WHERE action = 'API_KEY_ROTATED' ORDER BY id");
    expect(rows).toHaveLength(2);
    expect(rows[0].detail).toMatch(new RegExp(`^key ${overlapping.id} \\(xta_.{4}…\\) replaced by key \\d+ \\(xta_.{4}…\\); old key works until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z or the new key's first use$`));
    expect(JSON.parse(rows[0].details)).toMatchObject({ oldKeyId: Number(overlapping.id), ownerId: alice.id, overlapSeconds: 60, oldKeyRetiresAt: expect.stringMatching(/Z$/) });
    expect(rows[1].detail).toMatch(/; old key revoked at once$/);
    expect(JSON.parse(rows[1].details)).toMatchObject({ oldKeyId: Number(immediate.id), overlapSeconds: 0, oldKeyRetiresAt: null });
  });

  test("ids that are not key ids: their positions (from 0, at most five, then …), never their values", async () => {
    const five = await app.graphql(REVOKE, { ids: ["1", "x", "2", "y", "z", "w", "v"] }, as(admin));
    expect(errorCode(five)).toBe("BAD_USER_INPUT");
    expect(five.body.errors![0].message).toBe("Not API key ids: the ids at positions 1, 3, 4, 5, 6 (counting from 0).");
    expect(five.body.errors![0].extensions!.argumentName).toBe("ids");
    const six = await app.graphql(REVOKE, { ids: ["a", "b", "c", "d", "e", "f"] }, as(admin));
    expect(six.body.errors![0].message).toBe("Not API key ids: the ids at positions 0, 1, 2, 3, 4, … (counting from 0).");
  });

  test("revoking ids that name no key: 0, no audit event, and no revocation for the caches to wait out", async () => {
    const before = await generation();
    const result = await app.graphql(REVOKE, { ids: ["999998", "999999"] }, as(admin));
    expect(result.body.data.revokeApiKeys).toBe(0);
    expect(await generation()).toBe(before);
    expect(await auditActions()).not.toContain("API_KEYS_REVOKED");
  });

  test("revoking one key records its id on the audit event; several, none (the ids are in the details)", async () => {
    const keys = [await app.generateKey(alice), await app.generateKey(alice), await app.generateKey(alice)];
    await app.graphql(REVOKE, { ids: [keys[0].id] }, as(admin));
    await app.graphql(REVOKE, { ids: [keys[1].id, keys[2].id] }, as(admin));
    const rows: Array<{ key_id: unknown; detail: string; details: string }> = await app.db.dataSource.query("SELECT key_id, detail, details FROM audit_events WHERE action = 'API_KEYS_REVOKED' ORDER BY id");
    expect(rows.map((row) => (row.key_id === null ? null : Number(row.key_id)))).toEqual([Number(keys[0].id), null]);
    expect(rows[1].detail).toMatch(/^revoked 2 key\(s\): /);
    expect(JSON.parse(rows[1].details)).toEqual({ count: 2, keyIds: [Number(keys[1].id), Number(keys[2].id)] });
  });

  test("revoking every key: the audit event holds the count", async () => {
    await app.generateKey(alice);
    await app.generateKey(admin);
    await app.graphql("mutation { revokeAllApiKeys }", undefined, as(admin));
    const [row] = await app.db.dataSource.query("SELECT detail, details FROM audit_events WHERE action = 'ALL_API_KEYS_REVOKED'");
    expect(row.detail).toBe("revoked all 2 key(s)");
    expect(JSON.parse(row.details)).toEqual({ count: 2 });
  });

  test("activating an active user, or deactivating an inactive one, changes nothing: no audit event, no revocation", async () => {
    const setActive = (active: boolean) => app.graphql("mutation ($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { active } }", { id: String(alice.id), active }, as(admin));
    const before = await generation();
    expect((await setActive(true)).body.data.setUserActive.active).toBe(true);
    expect(await generation()).toBe(before);
    expect(await auditActions()).not.toContain("USER_ACTIVATED");
    await setActive(false);
    const afterDeactivation = await generation();
    expect(afterDeactivation).not.toBe(before);
    await setActive(false);
    expect(await generation()).toBe(afterDeactivation);
    expect((await auditActions()).filter((action: string) => action === "USER_DEACTIVATED")).toHaveLength(1);
    await setActive(true); // reactivation revokes nothing either
    expect(await generation()).toBe(afterDeactivation);
  });

  test("a user who is not there, or an admin deactivating themself: refused with what went wrong", async () => {
    const setActive = (id: string, active: boolean) => app.graphql("mutation ($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { active } }", { id, active }, as(admin));
    for (const id of ["999999", "not-an-id"]) {
      const missing = await setActive(id, false);
      expect([errorCode(missing), missing.body.errors![0].message]).toEqual(["NOT_FOUND", "No user with this id."]);
    }
    const self = await setActive(String(admin.id), false);
    expect(self.body.errors![0]).toMatchObject({ message: "You cannot deactivate your own account.", extensions: { code: "BAD_USER_INPUT", argumentName: "id" } });
  });
  test("another user's key, or no key id at all: rotating is NOT_FOUND for a non-admin, with the message of a missing key", async () => {
    const theirs = await app.generateKey(admin);
    for (const id of [theirs.id, "not-an-id"]) {
      const result = await app.graphql(ROTATE, { id }, as(alice));
      expect(result.body.errors![0]).toMatchObject({ message: "No API key with this id.", extensions: { code: "NOT_FOUND" } });
    }
  });

  test("a rotation retried with the same idempotency key but another overlap is refused, not replayed", async () => {
    const old = await app.generateKey(alice);
    const rotate = (overlapSeconds: number) =>
      app.graphql("mutation ($id: ID!, $o: Int, $k: String) { rotateApiKey(id: $id, overlapSeconds: $o, idempotencyKey: $k) { apiKey { id } } }", { id: old.id, o: overlapSeconds, k: "7d1f3c2e-5b6a-4e8f-9a0b-1c2d3e4f5a6b" }, as(alice));
    expect(errorCode(await rotate(60))).toBeUndefined();
    expect(errorCode(await rotate(0))).toBe("BAD_USER_INPUT");
  });

  test("an overlap shorter than the old key's remaining life ends the old key at the overlap's end, not at its expiry", async () => {
    const old = await app.generateKey(alice);
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = '2099-01-01 00:00:00.000' WHERE id = ?", [old.id]);
    const now = new Date("2030-01-01T00:00:00.000Z");
    await app.services.apiKeys.rotate({ userId: alice.id, email: alice.email, ip: null, isAdmin: false }, { id: old.id, overlapSeconds: 3600 }, now);
    const [row] = await app.db.dataSource.query("SELECT expires_at FROM api_keys WHERE id = ?", [old.id]);
    expect(new Date(String(row.expires_at instanceof Date ? row.expires_at.toISOString() : String(row.expires_at).replace(" ", "T") + "Z")).toISOString()).toBe("2030-01-01T01:00:00.000Z");
  });

  test("deleting one's own key is audited with the key and its owner", async () => {
    const { id } = await app.generateKey(alice);
    await app.graphql("mutation ($id: ID!) { deleteMyApiKey(id: $id) }", { id }, as(alice));
    const [row] = await app.db.dataSource.query("SELECT details FROM audit_events WHERE action = 'API_KEY_DELETED'");
    expect(JSON.parse(row.details)).toEqual({ keyId: Number(id), ownerId: alice.id });
  });

  test("a dry run for an owner email nobody has counts 0", async () => {
    await app.generateKey(alice);
    const result = await app.graphql('mutation { revokeApiKeysWhere(filter: { ownerEmail: "nobody@example.org" }) }', undefined, as(admin));
    expect(result.body.data.revokeApiKeysWhere).toBe(0);
  });

  test("activation and a no-op leave this instance's key cache alone; deactivation empties it; both are audited with the user", async () => {
    const { key } = await app.generateKey(admin);
    const cache = app.services.revocations.cache;
    const warm = async () => {
      expect((await app.graphql("{ me { id } }", undefined, viaKey(key))).status).toBe(200);
      expect(cache.size).toBeGreaterThan(0);
    };
    const setActive = (active: boolean) => app.graphql("mutation ($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { active } }", { id: String(alice.id), active }, as(admin));
    await warm();
    await setActive(true); // already active
    expect(cache.size).toBeGreaterThan(0);
    await setActive(false);
    expect(cache.size).toBe(0);
    await warm();
    await setActive(true);
    expect(cache.size).toBeGreaterThan(0);
    const rows: Array<{ action: string; detail: string; details: string }> = await app.db.dataSource.query("SELECT action, detail, details FROM audit_events WHERE action IN ('USER_ACTIVATED', 'USER_DEACTIVATED') ORDER BY id");
    expect(rows.map((row) => [row.action, row.detail, JSON.parse(row.details)])).toEqual([
      ["USER_DEACTIVATED", `user ${alice.id} ${alice.email}`, { userId: alice.id, email: alice.email }],
      ["USER_ACTIVATED", `user ${alice.id} ${alice.email}`, { userId: alice.id, email: alice.email }],
    ]);
  });
});
