import { basic, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const ME = "{ me { email } }";
const GENERATE = "mutation ($d: String) { generateApiKey(description: $d) { key apiKey { id } } }";

describe("concurrency", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let aliceKey: string;

  beforeAll(async () => {
    // 200 keys for one user: above the default cap.
    app = await startTestApp({ MAX_KEYS_PER_USER: "1000" });
  });
  beforeEach(async () => {
    await app.reset();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    aliceKey = (await app.generateKey(alice, { description: "driver" })).key;
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  const generate = async (n: number) => {
    const result = await app.graphql(GENERATE, { d: `concurrent ${n}` }, viaKey(aliceKey));
    if (result.status !== 200 || !result.body.data?.generateApiKey) throw new Error(`generate ${n}: ${result.status} ${JSON.stringify(result.body.errors)}`);
    return { key: result.body.data.generateApiKey.key as string, id: result.body.data.generateApiKey.apiKey.id as string };
  };

  test("200 concurrent generateApiKey calls: 200 distinct keys, all working, 200 rows", async () => {
    const generated = await Promise.all(Array.from({ length: 200 }, (_, n) => generate(n)));
    expect(new Set(generated.map((g) => g.key)).size).toBe(200);
    expect(new Set(generated.map((g) => g.id)).size).toBe(200);
    const rows = await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys WHERE description LIKE 'concurrent %'");
    expect(Number(rows[0].n)).toBe(200);
    const checks = await Promise.all(generated.map((g) => app.graphql(ME, undefined, viaKey(g.key))));
    expect(checks.filter((c) => c.status === 200 && c.body.data.me.email === alice.email)).toHaveLength(200);
  }, 120_000); // one user's generations queue on the user's row (the key cap), one at a time

  test("revokeAllApiKeys racing generateApiKey: every key works or not, consistently with the count returned", async () => {
    const existing = await Promise.all(Array.from({ length: 10 }, (_, n) => app.generateKey(alice, { description: `before ${n}` })));
    const before = Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys"))[0].n);
    expect(before).toBe(11); // driver + 10

    const generating = Array.from({ length: 60 }, (_, n) => generate(n).then((g) => g, () => null));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const revoke = app.graphql("mutation { revokeAllApiKeys }", undefined, basic(admin.email, admin.password));
    const [revoked, ...results] = await Promise.all([revoke, ...generating]);
    expect(revoked.status).toBe(200);
    const count: number = revoked.body.data.revokeAllApiKeys;

    // Generations that lost the race against the revocation of the driver key got a clean 401.
    const made = results.filter((r): r is { key: string; id: string } => r !== null);
    const remaining: Array<{ id: number }> = await app.db.dataSource.query("SELECT id FROM api_keys");
    expect(remaining.length).toBe(before + made.length - count);

    const all = [...existing.map((e) => ({ key: e.key, id: e.id })), { key: aliceKey, id: "driver" }, ...made];
    const works = await Promise.all(all.map(async (k) => (await app.graphql(ME, undefined, viaKey(k.key))).status === 200));
    const remainingIds = new Set(remaining.map((r) => String(r.id)));
    all.forEach((k, i) => expect({ id: k.id, works: works[i] }).toEqual({ id: k.id, works: remainingIds.has(k.id) }));
    expect(works.filter(Boolean).length).toBe(remaining.length);
    // Everything that existed before the revocation started is gone.
    expect(works.slice(0, existing.length + 1).some(Boolean)).toBe(false);
  });
});
