import { AuditAction } from "../../src/entities/audit-event.entity";
import { withAdminAndAlice } from "../support/admin-and-alice";
import { basic, viaKey, type TestApp, type TestUser } from "../support/app";

/**
 * The admin grid's totalCount is cached (30 s) and adjusted by each write on the instance: after
 * every operation that ends a key, the cached counts must equal what the database holds.
 */
const COUNTS = `query ($alice: String) {
  all: apiKeys { totalCount }
  alices: apiKeys(filter: { ownerEmail: $alice }) { totalCount }
  unexpired: apiKeys(filter: { expired: false }) { totalCount }
  expired: apiKeys(filter: { expired: true }) { totalCount }
}`;

interface Scene {
  app: TestApp;
  admin: TestUser;
  alice: TestUser;
  /** Alice's three keys: the second is described "doomed". */
  keys: Array<{ key: string; id: string }>;
}

/** Each operation that ends a key, with the audit line its write records last, inside its transaction. */
const REVOKING: Array<[string, (scene: Scene) => Promise<unknown>, AuditAction]> = [
  ["deleteMyApiKey", ({ app, alice, keys }) => app.graphql("mutation ($id: ID!) { deleteMyApiKey(id: $id) }", { id: keys[0].id }, basic(alice.email, alice.password)), AuditAction.API_KEY_DELETED],
  [
    "revokeApiKeys (one of them unknown)",
    ({ app, admin, keys }) => app.graphql("mutation ($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [keys[0].id, "999999"] }, basic(admin.email, admin.password)),
    AuditAction.API_KEYS_REVOKED,
  ],
  [
    "revokeApiKeysWhere",
    ({ app, admin }) => app.graphql('mutation { revokeApiKeysWhere(filter: { descriptionContains: "doomed" }, dryRun: false) }', undefined, basic(admin.email, admin.password)),
    AuditAction.API_KEYS_REVOKED,
  ],
  [
    "rotateApiKey, no overlap",
    ({ app, alice, keys }) => app.graphql("mutation ($id: ID!) { rotateApiKey(id: $id) { key } }", { id: keys[0].id }, basic(alice.email, alice.password)),
    AuditAction.API_KEY_ROTATED,
  ],
  [
    "rotateApiKey with an overlap, then the new key's first use",
    async ({ app, alice, keys }) => {
      const rotated = await app.graphql("mutation ($id: ID!) { rotateApiKey(id: $id, overlapSeconds: 3600) { key } }", { id: keys[0].id }, basic(alice.email, alice.password));
      return app.graphql("{ me { id } }", undefined, viaKey(rotated.body.data.rotateApiKey.key));
    },
    AuditAction.ROTATED_KEY_RETIRED,
  ],
  [
    "setUserActive(false)",
    ({ app, admin, alice }) => app.graphql("mutation ($id: ID!) { setUserActive(id: $id, active: false) { active } }", { id: String(alice.id) }, basic(admin.email, admin.password)),
    AuditAction.USER_DEACTIVATED,
  ],
  ["revokeAllApiKeys", ({ app, admin }) => app.graphql("mutation { revokeAllApiKeys }", undefined, basic(admin.email, admin.password)), AuditAction.ALL_API_KEYS_REVOKED],
];

/** A write that adds a key changes the counts too. */
const GENERATING: (typeof REVOKING)[number] = [
  "generateApiKey",
  ({ app, alice }) => app.graphql('mutation { generateApiKey(description: "four") { key } }', undefined, basic(alice.email, alice.password)),
  AuditAction.API_KEY_GENERATED,
];

/** What the driver throws for a transaction InnoDB picked as a deadlock victim. */
const deadlock = () => Object.assign(new Error("Deadlock found when trying to get lock; try restarting transaction"), { code: "ER_LOCK_DEADLOCK", errno: 1213 });

describe("the grid's cached totalCount after each operation that ends a key", () => {
  let scene: Scene;
  withAdminAndAlice(async (app, admin, alice) => {
    scene = { app, admin, alice, keys: [] };
  });

  async function setUp(): Promise<Scene> {
    const { app, admin, alice } = scene;
    await app.generateKey(admin);
    scene.keys = [await app.generateKey(alice, { description: "one" }), await app.generateKey(alice, { description: "doomed" }), await app.generateKey(alice, { description: "three" })];
    // One of Alice's keys has expired: the expired filters count it apart.
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = '2020-01-01 00:00:00.000' WHERE id = ?", [scene.keys[2].id]);
    app.services.apiKeys.counts.clear();
    return scene;
  }

  const cached = async ({ app, admin, alice }: Scene) => {
    const result = await app.graphql(COUNTS, { alice: alice.email }, basic(admin.email, admin.password));
    expect(result.body.errors).toBeUndefined();
    const data = result.body.data as Record<string, { totalCount: number }>;
    return Object.fromEntries(Object.entries(data).map(([name, connection]) => [name, connection.totalCount]));
  };
  const stored = async ({ app, alice }: Scene) => {
    const count = async (where: string, params: unknown[] = []) => Number((await app.db.dataSource.query(`SELECT COUNT(*) AS n FROM api_keys k WHERE ${where}`, params))[0].n);
    const now = new Date().toISOString().replace("T", " ").replace("Z", "");
    return {
      all: await count("1 = 1"),
      alices: await count("k.owner_id = ?", [alice.id]),
      unexpired: await count("(k.expires_at IS NULL OR k.expires_at > ?)", [now]),
      expired: await count("k.expires_at <= ?", [now]),
    };
  };

  test("the counts are served from the cache (a row added behind the service's back is not seen)", async () => {
    const scene = await setUp();
    const before = await cached(scene);
    await scene.app.db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at) VALUES (?, ?, 'xta_zzzz…', '2026-01-01 00:00:00.000')", [scene.alice.id, "c".repeat(64)]);
    expect(await cached(scene)).toEqual(before);
    expect((await stored(scene)).all).toBe(before.all + 1);
  });

  test.each(REVOKING)("%s: the cached counts equal the database's", async (_name, run) => {
    const scene = await setUp();
    expect(await cached(scene)).toEqual(await stored(scene));
    const result = (await run(scene)) as { status: number; body: { errors?: unknown } };
    expect({ status: result.status, errors: result.body.errors }).toEqual({ status: 200, errors: undefined });
    expect(await cached(scene)).toEqual(await stored(scene));
  });

  // The write's first try is picked as a deadlock victim at its audit line, after it tallied its
  // keys: inTransaction runs it again, and what the rolled-back try counted is not counted twice.
  test.each([...REVOKING, GENERATING])("%s, run again after a deadlock: the cached counts equal the database's", async (_name, run, victim) => {
    const scene = await setUp();
    expect(await cached(scene)).toEqual(await stored(scene));
    const audit = scene.app.services.audit;
    const original = audit.record.bind(audit);
    let tries = 0;
    const record = jest.spyOn(audit, "record").mockImplementation((event, manager) => {
      if (event.action !== victim) return original(event, manager);
      tries += 1;
      return tries === 1 ? Promise.reject(deadlock()) : original(event, manager);
    });
    try {
      const result = (await run(scene)) as { status: number; body: { errors?: unknown } };
      expect({ status: result.status, errors: result.body.errors, tries }).toEqual({ status: 200, errors: undefined, tries: 2 });
    } finally {
      record.mockRestore();
    }
    expect(await cached(scene)).toEqual(await stored(scene));
  });

  test("a deadlock victim on every try: 503 SERVICE_UNAVAILABLE, the key kept and still working, the counts unchanged", async () => {
    const scene = await setUp();
    const before = await cached(scene);
    const record = jest.spyOn(scene.app.services.audit, "record").mockImplementation(() => Promise.reject(deadlock()));
    let result;
    let tries = 0;
    try {
      result = await REVOKING[0][1](scene);
      tries = record.mock.calls.length;
    } finally {
      record.mockRestore();
    }
    const { status, body } = result as { status: number; body: { errors?: Array<{ message: string; extensions: { code: string } }> } };
    expect({ status, code: body.errors?.[0]?.extensions.code, tries }).toEqual({ status: 503, code: "SERVICE_UNAVAILABLE", tries: 3 });
    expect(body.errors?.[0]?.message).not.toMatch(/deadlock/i);
    expect((await scene.app.graphql("{ me { id } }", undefined, viaKey(scene.keys[0].key))).status).toBe(200);
    expect(await cached(scene)).toEqual(before);
    expect(await stored(scene)).toEqual(before);
  });
});
