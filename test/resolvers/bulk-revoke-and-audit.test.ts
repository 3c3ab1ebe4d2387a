import { basic, errorCode, type TestApp, type TestUser, viaKey } from "../support/app";
import { withAdminAndAlice } from "../support/admin-and-alice";

const REVOKE_WHERE = "mutation($filter: ApiKeyFilter!, $dryRun: Boolean, $all: Boolean) { revokeApiKeysWhere(filter: $filter, dryRun: $dryRun, all: $all) }";
const AUDIT = "query($filter: AuditEventFilter) { auditEvents(filter: $filter) { nodes { action detail details } } }";

describe("bulk revocation and a readable audit trail", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);
  const keyCount = async () => Number((await app.db.dataSource.query("SELECT COUNT(*) AS count FROM api_keys"))[0].count);
  const events = async (action: string) => (await app.graphql(AUDIT, { filter: { action } }, as(admin))).body.data.auditEvents.nodes;

  withAdminAndAlice((...given) => ([app, admin, alice] = given));

  test("an empty filter: a dry run counts every key, a real run is refused without all: true", async () => {
    await app.generateKey(alice);
    await app.generateKey(admin);
    expect((await app.graphql(REVOKE_WHERE, { filter: {} }, as(admin))).body.data.revokeApiKeysWhere).toBe(2);
    for (const all of [undefined, false]) {
      const refused = await app.graphql(REVOKE_WHERE, { filter: {}, dryRun: false, all }, as(admin));
      expect(refused.status).toBe(400);
      expect(refused.body.errors![0]).toMatchObject({ message: expect.stringMatching(/all: true/), extensions: { code: "BAD_USER_INPUT", argumentName: "filter" } });
    }
    // An empty description is no filter either.
    expect(errorCode(await app.graphql(REVOKE_WHERE, { filter: { descriptionContains: "" }, dryRun: false }, as(admin)))).toBe("BAD_USER_INPUT");
    expect(await keyCount()).toBe(2);
    expect((await app.graphql(REVOKE_WHERE, { filter: {}, dryRun: false, all: true }, as(admin))).body.data.revokeApiKeysWhere).toBe(2);
    expect(await keyCount()).toBe(0);
  });

  test("a real run with a filter needs no all, returns the count, and its audit event holds the filter and the ids", async () => {
    const { key, id } = await app.generateKey(alice, { description: "CI runner" });
    await app.generateKey(admin, { description: "CI runner" });
    const filter = { ownerEmail: alice.email, descriptionContains: "ci" };
    const preview = await app.graphql("query($filter: ApiKeyFilter) { apiKeys(filter: $filter) { nodes { id } } }", { filter }, as(admin));
    expect(preview.body.data.apiKeys.nodes).toEqual([{ id }]);
    expect((await app.graphql(REVOKE_WHERE, { filter, dryRun: false }, as(admin))).body.data.revokeApiKeysWhere).toBe(1);
    expect((await app.graphql("{ me { id } }", undefined, viaKey(key))).status).toBe(401);
    const [event] = await events("API_KEYS_REVOKED");
    expect(event.details).toEqual({ count: 1, filter: { ownerEmail: alice.email, descriptionContains: "ci" }, keyIds: [Number(id)] });
    expect(event.detail).toMatch(/revoked 1 key/);
  });

  test("audit events carry structured details beside the readable detail", async () => {
    const { id } = await app.generateKey(alice, { readOnly: true });
    await app.graphql("mutation($id: ID!) { rotateApiKey(id: $id) { apiKey { id } } }", { id }, as(alice));
    await app.graphql("mutation { updateExternalToolSettings(input: { apiKeyExpiration: DAYS_30 }) { apiKeyExpiration } }", undefined, as(admin));
    await app.graphql("{ me { id } }", undefined, basic(alice.email, "a wrong password!!"));
    await app.services.audit.flushFailures();

    const [generated] = await events("API_KEY_GENERATED");
    expect(generated.details).toEqual({ keyId: Number(id), hint: expect.stringMatching(/^xta_/), ownerId: alice.id, readOnly: true, expiresAt: null });
    const [rotated] = await events("API_KEY_ROTATED");
    expect(rotated.details).toMatchObject({ oldKeyId: Number(id), ownerId: alice.id, overlapSeconds: 0, oldKeyRetiresAt: null });
    const [settings] = await events("SETTINGS_CHANGED");
    expect(settings.details).toEqual({ apiKeyExpiration: { from: "NEVER", to: "DAYS_30" } });
    const [created] = await events("USER_CREATED");
    expect(created.details).toEqual({ userId: alice.id, email: alice.email, isAdmin: false });
    const [failed] = await events("AUTHENTICATION_FAILED");
    expect(failed.details).toEqual({ reason: "INVALID", method: "password" });
  });

  test("an action filter in any case works; an unknown action is BAD_USER_INPUT listing the known ones, not an empty list", async () => {
    await app.generateKey(alice);
    expect((await app.graphql(AUDIT, { filter: { action: " api_key_generated " } }, as(admin))).body.data.auditEvents.nodes).toHaveLength(1);
    const unknown = await app.graphql(AUDIT, { filter: { action: "KEY_MADE_UP" } }, as(admin));
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors![0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT", argumentName: "action" } });
    expect(unknown.body.errors![0].message).toContain("API_KEY_GENERATED");
    expect(unknown.body.errors![0].message).not.toContain("KEY_MADE_UP");
  });
});
