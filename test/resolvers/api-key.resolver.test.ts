import { API_KEYS_DISABLED_MESSAGE } from "../../src/errors";
import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const GENERATE = `mutation($description: String, $readOnly: Boolean) {
  generateApiKey(description: $description, readOnly: $readOnly) { key apiKey { id hint description createdAt expiresAt lastUsedAt readOnly expired owner { email } } }
}`;
const MY_KEYS = "{ myApiKeys { id description expired expiresAt owner { email } } }";
const LIST = `query($filter: ApiKeyFilter, $orderBy: ApiKeyOrder, $first: Int, $after: String) {
  apiKeys(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount nodes { id description createdAt expiresAt lastUsedAt owner { email } } pageInfo { hasNextPage endCursor }
  }
}`;
const DAY = 24 * 3600_000;

describe("API key resolver", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);

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

  async function setKeyTimes(id: string, times: { createdAt?: Date; expiresAt?: Date | null; lastUsedAt?: Date | null }) {
    const sqlTime = (date: Date | null) => (date ? date.toISOString().replace("T", " ").replace("Z", "") : null);
    if (times.createdAt) await app.db.dataSource.query("UPDATE api_keys SET created_at = ? WHERE id = ?", [sqlTime(times.createdAt), Number(id)]);
    if (times.expiresAt !== undefined) await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", [sqlTime(times.expiresAt), Number(id)]);
    if (times.lastUsedAt !== undefined) await app.db.dataSource.query("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [sqlTime(times.lastUsedAt), Number(id)]);
  }

  describe("generateApiKey", () => {
    test("returns the key once, with its listing fields", async () => {
      const result = await app.graphql(GENERATE, { description: "laptop" }, as(alice));
      expect(result.status).toBe(200);
      const generated = result.body.data.generateApiKey;
      expect(generated.key).toMatch(/^xta_[0-9A-Za-z]{57}$/);
      expect(generated.apiKey).toMatchObject({ description: "laptop", expiresAt: null, lastUsedAt: null, readOnly: false, expired: false, owner: { email: alice.email } });
      expect(generated.apiKey.hint).toBe(generated.key.slice(0, 8) + "…");
      expect(Math.abs(new Date(generated.apiKey.createdAt).getTime() - Date.now())).toBeLessThan(10_000);
    });

    test("keys disabled: FORBIDDEN with the LabKey message, for admins too, and no row", async () => {
      await app.setKeysEnabled(false);
      for (const user of [alice, admin]) {
        const result = await app.graphql(GENERATE, {}, as(user));
        expect(result.status).toBe(403);
        expect(result.body.errors![0]).toMatchObject({ message: API_KEYS_DISABLED_MESSAGE, extensions: { code: "FORBIDDEN" } });
      }
      expect(await app.db.dataSource.query("SELECT id FROM api_keys")).toEqual([]);
    });

    test("turning keys off stops new keys only: existing keys keep working", async () => {
      const { key } = await app.generateKey(alice);
      await app.setKeysEnabled(false);
      const result = await app.graphql("{ me { email } }", undefined, viaKey(key));
      expect(result.body.data.me.email).toBe(alice.email);
    });

    test("expiresAt is creation time plus the site setting; changing the setting leaves existing keys alone", async () => {
      await app.services.settings.update({ apiKeyExpiration: "DAYS_30" as never });
      const first = (await app.graphql(GENERATE, {}, as(alice))).body.data.generateApiKey.apiKey;
      expect(new Date(first.expiresAt).getTime() - new Date(first.createdAt).getTime()).toBe(30 * DAY);
      await app.services.settings.update({ apiKeyExpiration: "DAYS_7" as never });
      const second = (await app.graphql(GENERATE, {}, as(alice))).body.data.generateApiKey.apiKey;
      expect(new Date(second.expiresAt).getTime() - new Date(second.createdAt).getTime()).toBe(7 * DAY);
      const listed = (await app.graphql(MY_KEYS, undefined, as(alice))).body.data.myApiKeys;
      expect(listed.find((k: { id: string }) => k.id === first.id).expiresAt).toBe(first.expiresAt);
    });

    test("description: trimmed; blank becomes null; 256 characters accepted, 257 refused with BAD_USER_INPUT", async () => {
      expect((await app.graphql(GENERATE, { description: "  padded  " }, as(alice))).body.data.generateApiKey.apiKey.description).toBe("padded");
      expect((await app.graphql(GENERATE, { description: "   " }, as(alice))).body.data.generateApiKey.apiKey.description).toBeNull();
      const longest = "é".repeat(256);
      expect((await app.graphql(GENERATE, { description: longest }, as(alice))).body.data.generateApiKey.apiKey.description).toBe(longest);
      const tooLong = await app.graphql(GENERATE, { description: "x".repeat(257) }, as(alice));
      expect(tooLong.status).toBe(400);
      expect(errorCode(tooLong)).toBe("BAD_USER_INPUT");
      expect(await app.db.dataSource.query("SELECT id FROM api_keys")).toHaveLength(3);
    });

    test("hostile descriptions are stored and returned verbatim", async () => {
      const hostile = ["'; DROP TABLE api_keys; --", "\" OR 1=1 --", "%_!\\", "<script>alert(1)</script>", "emoji 🔑 and 中文"];
      for (const description of hostile) {
        const result = await app.graphql(GENERATE, { description }, as(alice));
        expect(result.body.data.generateApiKey.apiKey.description).toBe(description);
      }
      const listed = (await app.graphql(MY_KEYS, undefined, as(alice))).body.data.myApiKeys.map((k: { description: string }) => k.description);
      expect(listed.sort()).toEqual([...hostile].sort());
    });

    test("readOnly: stored and listed", async () => {
      expect((await app.graphql(GENERATE, { readOnly: true }, as(alice))).body.data.generateApiKey.apiKey.readOnly).toBe(true);
    });
  });

  describe("myApiKeys", () => {
    test("the caller's keys only, newest first, expired ones included and flagged", async () => {
      const older = await app.generateKey(alice, { description: "older" });
      const newer = await app.generateKey(alice, { description: "newer" });
      await app.generateKey(bob, { description: "bob's" });
      await setKeyTimes(older.id, { createdAt: new Date(Date.now() - 2 * DAY), expiresAt: new Date(Date.now() - DAY) });
      const result = await app.graphql(MY_KEYS, undefined, viaKey(newer.key));
      expect(result.body.data.myApiKeys.map((k: { description: string; expired: boolean }) => [k.description, k.expired])).toEqual([
        ["newer", false],
        ["older", true],
      ]);
    });
  });

  describe("deleteMyApiKey", () => {
    test("deletes the caller's own key", async () => {
      const { id } = await app.generateKey(alice);
      const result = await app.graphql("mutation($id: ID!) { deleteMyApiKey(id: $id) }", { id }, as(alice));
      expect(result.body.data.deleteMyApiKey).toBe(true);
      expect((await app.graphql(MY_KEYS, undefined, as(alice))).body.data.myApiKeys).toEqual([]);
      const events = await app.db.dataSource.query("SELECT actor_email, key_id, detail FROM audit_events WHERE action = 'API_KEY_DELETED'");
      expect(events.map((e: Record<string, unknown>) => ({ ...e, key_id: Number(e.key_id) }))).toEqual([{ actor_email: alice.email, key_id: Number(id), detail: "deleted by its owner" }]);
    });

    test("another user's key id: NOT_FOUND, and the key survives", async () => {
      const bobs = await app.generateKey(bob);
      const result = await app.graphql("mutation($id: ID!) { deleteMyApiKey(id: $id) }", { id: bobs.id }, as(alice));
      expect(result.status).toBe(404);
      expect(errorCode(result)).toBe("NOT_FOUND");
      expect(result.body.errors![0].message).toBe("No API key with this id.");
      expect((await app.graphql("{ me { email } }", undefined, viaKey(bobs.key))).body.data.me.email).toBe(bob.email);
    });

    test("an id that does not exist or is not a number: NOT_FOUND", async () => {
      for (const id of ["999999", "abc", "-1", "1 OR 1=1"]) {
        const result = await app.graphql("mutation($id: ID!) { deleteMyApiKey(id: $id) }", { id }, as(alice));
        expect(errorCode(result)).toBe("NOT_FOUND");
      }
    });
  });

  describe("apiKeys (admin)", () => {
    test("lists every key with owner, dates and description, and counts them", async () => {
      await app.generateKey(alice, { description: "a1" });
      await app.generateKey(bob, { description: "b1" });
      const result = await app.graphql(LIST, {}, as(admin));
      expect(result.body.data.apiKeys.totalCount).toBe(2);
      expect(result.body.data.apiKeys.nodes.map((k: { description: string; owner: { email: string } }) => [k.description, k.owner.email])).toEqual([
        ["b1", bob.email],
        ["a1", alice.email],
      ]);
    });

    test("filters: owner email (any case), description substring, expired, unused since, created before", async () => {
      const a1 = await app.generateKey(alice, { description: "Nightly ETL job" });
      const a2 = await app.generateKey(alice, { description: "laptop 50%_off" });
      const b1 = await app.generateKey(bob, { description: "R session" });
      await setKeyTimes(a1.id, { createdAt: new Date(Date.now() - 100 * DAY), expiresAt: new Date(Date.now() - DAY), lastUsedAt: new Date(Date.now() - 95 * DAY) });
      await setKeyTimes(a2.id, { lastUsedAt: new Date(Date.now() - DAY) });
      const ids = async (filter: Record<string, unknown>) =>
        (await app.graphql(LIST, { filter }, as(admin))).body.data.apiKeys.nodes.map((k: { id: string }) => k.id).sort();

      expect(await ids({ ownerEmail: "ALICE@example.org" })).toEqual([a1.id, a2.id].sort());
      expect(await ids({ descriptionContains: "etl" })).toEqual([a1.id]);
      expect(await ids({ descriptionContains: "50%_" })).toEqual([a2.id]);
      expect(await ids({ descriptionContains: "%" })).toEqual([a2.id]);
      expect(await ids({ expired: true })).toEqual([a1.id]);
      expect(await ids({ expired: false })).toEqual([a2.id, b1.id].sort());
      expect(await ids({ unusedSince: new Date(Date.now() - 90 * DAY).toISOString() })).toEqual([a1.id, b1.id].sort());
      expect(await ids({ createdBefore: new Date(Date.now() - 50 * DAY).toISOString() })).toEqual([a1.id]);
      expect(await ids({ ownerEmail: "alice@example.org", expired: false })).toEqual([a2.id]);
      expect((await app.graphql(LIST, { filter: { ownerEmail: "bob@example.org" } }, as(admin))).body.data.apiKeys.totalCount).toBe(1);
    });

    test("orders: created asc/desc, last used desc (never used last), expires asc (never expiring last)", async () => {
      const k1 = await app.generateKey(alice, { description: "k1" });
      const k2 = await app.generateKey(alice, { description: "k2" });
      const k3 = await app.generateKey(bob, { description: "k3" });
      const now = Date.now();
      await setKeyTimes(k1.id, { createdAt: new Date(now - 3000), lastUsedAt: new Date(now - 1000), expiresAt: null });
      await setKeyTimes(k2.id, { createdAt: new Date(now - 2000), lastUsedAt: null, expiresAt: new Date(now + DAY) });
      await setKeyTimes(k3.id, { createdAt: new Date(now - 1000), lastUsedAt: new Date(now - 500), expiresAt: new Date(now + 2 * DAY) });
      const order = async (orderBy: string) =>
        (await app.graphql(LIST, { orderBy }, as(admin))).body.data.apiKeys.nodes.map((k: { description: string }) => k.description);
      expect(await order("CREATED_AT_DESC")).toEqual(["k3", "k2", "k1"]);
      expect(await order("CREATED_AT_ASC")).toEqual(["k1", "k2", "k3"]);
      expect(await order("LAST_USED_AT_DESC")).toEqual(["k3", "k1", "k2"]);
      expect(await order("EXPIRES_AT_ASC")).toEqual(["k2", "k3", "k1"]);
    });

    test.each(["CREATED_AT_DESC", "CREATED_AT_ASC", "LAST_USED_AT_DESC", "EXPIRES_AT_ASC"])(
      "cursor pagination in %s visits every key once, stable under inserts",
      async (orderBy) => {
        const created: string[] = [];
        for (let i = 0; i < 7; i++) created.push((await app.generateKey(i % 2 ? alice : bob, { description: `key ${i}` })).id);
        // Ties on the sort column and NULLs both occur: the id breaks ties.
        const sameTime = new Date(Date.now() - DAY);
        for (const id of created.slice(0, 4)) await setKeyTimes(id, { createdAt: sameTime, lastUsedAt: sameTime, expiresAt: new Date(sameTime.getTime() + 10 * DAY) });
        const seen: string[] = [];
        let after: string | null = null;
        let pages = 0;
        do {
          const page: any = (await app.graphql(LIST, { orderBy, first: 2, after }, as(admin))).body.data.apiKeys;
          seen.push(...page.nodes.map((k: { id: string }) => k.id));
          after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
          if (pages++ === 0) await app.generateKey(alice, { description: "inserted while paging" });
        } while (after);
        const original = seen.filter((id) => created.includes(id));
        expect(original.sort()).toEqual([...created].sort());
        expect(new Set(seen).size).toBe(seen.length);
      },
    );

    test("first: 0 gives an empty page with the count; over 500 or negative is BAD_USER_INPUT", async () => {
      await app.generateKey(alice);
      const empty = (await app.graphql(LIST, { first: 0 }, as(admin))).body.data.apiKeys;
      expect(empty).toMatchObject({ nodes: [], totalCount: 1, pageInfo: { hasNextPage: true } });
      for (const first of [501, -1]) {
        const result = await app.graphql(LIST, { first }, as(admin));
        expect(result.status).toBe(400);
        expect(errorCode(result)).toBe("BAD_USER_INPUT");
      }
    });

    test("a forged cursor, or one from another order, is BAD_USER_INPUT", async () => {
      await app.generateKey(alice);
      await app.generateKey(alice);
      const page = (await app.graphql(LIST, { first: 1 }, as(admin))).body.data.apiKeys;
      const forged = Buffer.from(JSON.stringify(["CREATED_AT_DESC", "1' OR '1'='1", 1])).toString("base64url");
      for (const [after, orderBy] of [
        ["not-a-cursor", "CREATED_AT_DESC"],
        [forged, "CREATED_AT_DESC"],
        [page.pageInfo.endCursor, "CREATED_AT_ASC"],
      ]) {
        const result = await app.graphql(LIST, { after, orderBy }, as(admin));
        expect(errorCode(result)).toBe("BAD_USER_INPUT");
      }
      // The same order under another filter: refused too (400, not 500), the value not echoed.
      for (const filter of [{ expired: true }, { descriptionContains: "x" }, { ownerEmail: "alice@example.org" }]) {
        const result = await app.graphql(LIST, { after: page.pageInfo.endCursor, filter }, as(admin));
        expect(result.status).toBe(400);
        expect(errorCode(result)).toBe("BAD_USER_INPUT");
        expect(JSON.stringify(result.body)).not.toContain(page.pageInfo.endCursor);
      }
    });
  });

  describe("revokeApiKeys and revokeAllApiKeys (admin)", () => {
    test("revokes the given keys and returns the count; unknown and repeated ids are not counted twice", async () => {
      const a = await app.generateKey(alice);
      const b = await app.generateKey(bob);
      const c = await app.generateKey(bob);
      const result = await app.graphql("mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [a.id, b.id, b.id, "999999"] }, as(admin));
      expect(result.body.data.revokeApiKeys).toBe(2);
      expect((await app.graphql("{ me { id } }", undefined, viaKey(a.key))).status).toBe(401);
      expect((await app.graphql("{ me { id } }", undefined, viaKey(b.key))).status).toBe(401);
      expect((await app.graphql("{ me { id } }", undefined, viaKey(c.key))).status).toBe(200);
    });

    test("a malformed id revokes nothing: BAD_USER_INPUT", async () => {
      const a = await app.generateKey(alice);
      const result = await app.graphql("mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [a.id, "1; DELETE FROM api_keys"] }, as(admin));
      expect(errorCode(result)).toBe("BAD_USER_INPUT");
      expect((await app.graphql("{ me { id } }", undefined, viaKey(a.key))).status).toBe(200);
    });

    test("an empty list revokes nothing", async () => {
      await app.generateKey(alice);
      expect((await app.graphql("mutation { revokeApiKeys(ids: []) }", undefined, as(admin))).body.data.revokeApiKeys).toBe(0);
      expect(await app.db.dataSource.query("SELECT id FROM api_keys")).toHaveLength(1);
    });

    test("revokeAllApiKeys: every key stops working, the count is returned, users remain", async () => {
      const keys = [await app.generateKey(alice), await app.generateKey(bob), await app.generateKey(admin)];
      const result = await app.graphql("mutation { revokeAllApiKeys }", undefined, as(admin));
      expect(result.body.data.revokeAllApiKeys).toBe(3);
      for (const { key } of keys) expect((await app.graphql("{ me { id } }", undefined, viaKey(key))).status).toBe(401);
      expect((await app.graphql("{ me { email } }", undefined, as(alice))).body.data.me.email).toBe(alice.email);
    });

    test("an admin's key carries admin rights", async () => {
      const { key } = await app.generateKey(admin);
      await app.generateKey(alice);
      expect((await app.graphql(LIST, {}, viaKey(key))).body.data.apiKeys.totalCount).toBe(2);
    });
  });
});
