import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const EVENTS = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    nodes { id at action actor { email } keyId detail ip count }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Event {
  id: string;
  at: string;
  action: string;
  actor: { email: string } | null;
  keyId: string | null;
  detail: string | null;
  ip: string | null;
  count: number;
}

describe("audit trail", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);
  const events = async (filter: Record<string, unknown> = {}, first = 100): Promise<Event[]> => {
    await app.services.audit.flushFailures();
    const result = await app.graphql(EVENTS, { filter, first }, as(admin));
    if (!result.body.data) throw new Error(JSON.stringify(result.body.errors));
    return result.body.data.auditEvents.nodes;
  };

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  test("every action is recorded with its actor, newest first, and no event holds a secret", async () => {
    const settings = "mutation($input: ExternalToolSettingsInput!) { updateExternalToolSettings(input: $input) { apiKeysEnabled } }";
    await app.graphql(settings, { input: { apiKeysEnabled: true, apiKeyExpiration: "DAYS_30" } }, as(admin));
    const generated = await app.generateKey(alice, { description: "audit me" });
    await app.graphql("mutation($id: ID!) { deleteMyApiKey(id: $id) }", { id: generated.id }, as(alice));
    const second = await app.generateKey(alice);
    const rotated = (await app.graphql("mutation($id: ID!) { rotateApiKey(id: $id) { key apiKey { id } } }", { id: second.id }, as(alice))).body.data.rotateApiKey;
    await app.graphql("mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [rotated.apiKey.id] }, as(admin));
    await app.generateKey(alice);
    await app.graphql("mutation { revokeAllApiKeys }", undefined, as(admin));
    const created = await app.graphql("mutation($input: CreateUserInput!) { createUser(input: $input) { id } }", { input: { email: "carol@example.org", password: "carol's password" } }, as(admin));
    app.secrets.add("carol's password");
    const carolId = created.body.data.createUser.id;
    await app.graphql("mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }", { id: carolId }, as(admin));
    await app.graphql("mutation($id: ID!) { setUserActive(id: $id, active: true) { id } }", { id: carolId }, as(admin));

    const trail = await events({ actorEmail: "admin@example.org" });
    expect(trail.map((e) => e.action)).toEqual(["USER_ACTIVATED", "USER_DEACTIVATED", "USER_CREATED", "ALL_API_KEYS_REVOKED", "API_KEYS_REVOKED", "SETTINGS_CHANGED"]);
    expect(trail.every((e) => e.actor?.email === admin.email && e.ip === "127.0.0.1")).toBe(true);
    expect(trail.find((e) => e.action === "SETTINGS_CHANGED")!.detail).toBe("apiKeysEnabled: false -> true; apiKeyExpiration: NEVER -> DAYS_30");
    expect(trail.find((e) => e.action === "ALL_API_KEYS_REVOKED")!.detail).toBe("revoked all 1 key(s)");
    expect(trail.find((e) => e.action === "API_KEYS_REVOKED")).toMatchObject({ keyId: rotated.apiKey.id, detail: `revoked 1 key(s): ${rotated.apiKey.id}` });
    expect(trail.find((e) => e.action === "USER_CREATED")!.detail).toContain("carol@example.org");

    const byAlice = await events({ actorEmail: "ALICE@example.org" });
    expect(byAlice.map((e) => e.action)).toEqual(["API_KEY_GENERATED", "API_KEY_ROTATED", "API_KEY_GENERATED", "API_KEY_DELETED", "API_KEY_GENERATED"]);
    expect(byAlice.find((e) => e.action === "API_KEY_DELETED")!.keyId).toBe(generated.id);
    expect(byAlice.find((e) => e.action === "API_KEY_ROTATED")).toMatchObject({ keyId: rotated.apiKey.id });

    const everything = JSON.stringify(await app.db.dataSource.query("SELECT * FROM audit_events"));
    for (const secret of app.secrets) expect(everything).not.toContain(secret);
  });

  test("authentication failures: reason, IP and the account when known; never the presented secret", async () => {
    await app.setKeysEnabled(true);
    const { key, id } = await app.generateKey(alice);
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = '2020-01-01 00:00:00.000' WHERE id = ?", [Number(id)]);
    await app.graphql("{ me { id } }", undefined, viaKey(key));
    await app.graphql("{ me { id } }", undefined, basic(alice.email, "wrong password one"));
    await app.graphql("{ me { id } }", undefined, basic("nobody@example.org", "wrong password two"));
    await app.graphql("{ me { id } }", undefined, viaKey("apikey|" + key));
    const failures = await events({ action: "AUTHENTICATION_FAILED" });
    const summary = failures.map((e) => [e.detail, e.actor?.email ?? null, e.ip, e.count]).sort();
    expect(summary).toEqual(
      [
        ["reason=EXPIRED method=apikey", alice.email, "127.0.0.1", 1],
        ["reason=INVALID method=password", alice.email, "127.0.0.1", 1],
        ["reason=INVALID method=password", null, "127.0.0.1", 1],
        ["reason=LEGACY_PREFIX method=apikey", null, "127.0.0.1", 1],
      ].sort(),
    );
    const stored = JSON.stringify(await app.db.dataSource.query("SELECT * FROM audit_events"));
    expect(stored).not.toContain(key);
    expect(stored).not.toMatch(/wrong password|nobody@example.org/);
  });

  test("repeated identical failures from one IP collapse into one event with a count", async () => {
    const attempts = Array.from({ length: 60 }, () => app.graphql("{ me { id } }", undefined, basic("apikey", "xta_" + "A".repeat(49))));
    await Promise.all(attempts);
    await app.services.audit.flushFailures();
    for (let i = 0; i < 15; i++) await app.graphql("{ me { id } }", undefined, basic("apikey", "xta_" + "B".repeat(49)));
    const failures = await events({ action: "AUTHENTICATION_FAILED" });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ count: 75, detail: "reason=MALFORMED method=apikey", ip: "127.0.0.1" });
    expect(await app.db.dataSource.query("SELECT id FROM audit_events WHERE action = 'AUTHENTICATION_FAILED'")).toHaveLength(1);
  });

  test("failures collapse per 10-minute window and per reason; memory stays bounded under a flood", async () => {
    const audit = app.services.audit;
    const t0 = new Date("2026-11-27T10:00:00.000Z");
    audit.noteAuthFailure({ reason: "INVALID", method: "apikey", ip: "10.0.0.1" }, t0);
    audit.noteAuthFailure({ reason: "INVALID", method: "apikey", ip: "10.0.0.1" }, new Date(t0.getTime() + 9 * 60_000));
    audit.noteAuthFailure({ reason: "INVALID", method: "apikey", ip: "10.0.0.1" }, new Date(t0.getTime() + 10 * 60_000));
    audit.noteAuthFailure({ reason: "EXPIRED", method: "apikey", ip: "10.0.0.1" }, t0);
    const counts = (await events({ action: "AUTHENTICATION_FAILED" })).map((e) => [e.detail, e.count]);
    expect(counts.sort()).toEqual(
      [
        ["reason=EXPIRED method=apikey", 1],
        ["reason=INVALID method=apikey", 1],
        ["reason=INVALID method=apikey", 2],
      ].sort(),
    );
    for (let i = 0; i < 20_000; i++) audit.noteAuthFailure({ reason: "INVALID", method: "apikey", ip: `10.1.${i >> 8}.${i & 255}` }, t0);
    expect(audit.pendingFailureGroups).toBeLessThanOrEqual(10_001);
  });

  test("filters (action, actor, key, since/until) and cursor pagination", async () => {
    await app.setKeysEnabled(true);
    const keys = [];
    for (let i = 0; i < 5; i++) keys.push(await app.generateKey(alice, { description: `k${i}` }));
    expect((await events({ keyId: keys[2].id })).map((e) => e.keyId)).toEqual([keys[2].id]);
    expect(await events({ action: "api_key_generated" })).toHaveLength(5);
    expect(await events({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await events({ until: new Date(Date.now() - 3600_000).toISOString() })).toEqual([]);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = (await app.graphql(EVENTS, { filter: { action: "API_KEY_GENERATED" }, first: 2, after }, as(admin))).body.data.auditEvents;
      seen.push(...page.nodes.map((e: Event) => e.keyId));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(keys.map((k) => k.id).reverse());
    expect(errorCode(await app.graphql(EVENTS, { after: "garbage" }, as(admin)))).toBe("BAD_USER_INPUT");
  });

  test("non-admin: FORBIDDEN", async () => {
    const result = await app.graphql(EVENTS, {}, as(alice));
    expect(result.status).toBe(403);
    expect(errorCode(result)).toBe("FORBIDDEN");
  });
});
