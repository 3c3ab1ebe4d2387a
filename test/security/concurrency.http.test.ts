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

    // Four clients generate keys in a loop until one is refused; the revocation starts once five
    // have been made. Generations therefore land on both sides of it, however the machine
    // schedules them: each client ends with a refusal, and a request sent after the revocation
    // returned must be one.
    let revokeReturned = false;
    let made = 0;
    let firstFive!: () => void;
    const fiveMade = new Promise<void>((resolve) => (firstFive = resolve));
    let n = 0;
    const client = async () => {
      const outcomes: Array<{ key: string; id: string } | null> = [];
      for (;;) {
        const sentAfterReturn = revokeReturned;
        const outcome = await generate(n++).catch((error: Error) => {
          if (/^generate \d+: 401 /.test(error.message)) return null; // the driver key is revoked
          throw error;
        });
        outcomes.push(outcome);
        if (!outcome) return outcomes;
        if (sentAfterReturn) throw new Error("a generation sent after revokeAllApiKeys returned was served: the driver key still works");
        if (++made === 5) firstFive();
      }
    };
    const clients = Promise.all(Array.from({ length: 4 }, client));
    await Promise.race([fiveMade, clients]); // a client failing early fails the test here
    const revoked = await app.graphql("mutation { revokeAllApiKeys }", undefined, basic(admin.email, admin.password));
    revokeReturned = true;
    const results = (await clients).flat();
    expect(revoked.status).toBe(200);
    const count: number = revoked.body.data.revokeAllApiKeys;
    // The race interleaved: the revocation took keys generated during the run (five at least), and
    // every client's last generation came after it had committed (refused, the driver key gone).
    expect(count).toBeGreaterThanOrEqual(before + 5);

    // Generations that lost the race against the revocation of the driver key got a clean 401.
    const generated = results.filter((r): r is { key: string; id: string } => r !== null);
    const remaining: Array<{ id: number }> = await app.db.dataSource.query("SELECT id FROM api_keys");
    expect(remaining.length).toBe(before + generated.length - count);

    const all = [...existing.map((e) => ({ key: e.key, id: e.id })), { key: aliceKey, id: "driver" }, ...generated];
    const works = await Promise.all(all.map(async (k) => (await app.graphql(ME, undefined, viaKey(k.key))).status === 200));
    const remainingIds = new Set(remaining.map((r) => String(r.id)));
    all.forEach((k, i) => expect({ id: k.id, works: works[i] }).toEqual({ id: k.id, works: remainingIds.has(k.id) }));
    expect(works.filter(Boolean).length).toBe(remaining.length);
    // Everything that existed before the revocation started is gone.
    expect(works.slice(0, existing.length + 1).some(Boolean)).toBe(false);
  });
});
