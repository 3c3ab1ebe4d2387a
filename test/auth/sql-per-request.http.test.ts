import * as keyFormat from "../../src/keys/api-key-format";
import { SYSTEM_ACTOR } from "../../src/entities/audit-event.entity";
import { countQueries, type QueryCounter } from "../../src/db/query-counter";
import { startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";
import { madeUpKey } from "../support/keys";

/**
 * The hot path's budget (issue 4): at most one SQL statement per key-authenticated request, no
 * writes. With the key cache on, a key's first request reads the database and the next ones do not;
 * with it off, each reads once.
 */
describe("SQL statements per authenticated request (key cache on)", () => {
  let app: TestApp;
  let alice: TestUser;
  let counter: QueryCounter;
  let key: string;

  beforeAll(async () => {
    // A window long enough that a busy CI machine's late timers never let the cache go stale mid-test.
    app = await startTestApp({ KEY_CACHE_WINDOW_MS: "2000" });
    alice = await app.createUser("alice@example.org");
    await app.db.dataSource.query("UPDATE users SET display_name = 'Alice A.' WHERE id = ?", [alice.id]);
    await app.setKeysEnabled(true);
    ({ key } = await app.generateKey(alice));
    counter = countQueries(app.db.dataSource);
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  async function statementsFor(requests: number, send: () => Promise<number>, expectedStatus: number) {
    const before = counter.snapshot();
    for (let i = 0; i < requests; i++) await expect(send()).resolves.toBe(expectedStatus);
    const after = counter.snapshot();
    return { statements: after.statements - before.statements, writes: after.writes - before.writes };
  }

  test("key in Basic auth, { me { id email } }: one statement for the first request, none for the next 19, no write", async () => {
    const { key: fresh } = await app.generateKey(alice);
    const send = async () => (await app.graphql("{ me { id email displayName createdAt isAdmin active } }", undefined, viaKey(fresh))).status;
    await expect(statementsFor(20, send, 200)).resolves.toEqual({ statements: 1, writes: 0 });
  });

  test("key in the apikey header: at most one statement, no write", async () => {
    const { key: fresh } = await app.generateKey(alice);
    const send = async () => (await app.graphql("{ me { id } }", undefined, { apikey: fresh })).status;
    await expect(statementsFor(10, send, 200)).resolves.toEqual({ statements: 1, writes: 0 });
  });

  test("me answered from the authentication read: the same user as in the database", async () => {
    const result = await app.graphql("{ me { id email displayName isAdmin active createdAt } }", undefined, viaKey(key));
    const stored = await app.services.users.findById(alice.id);
    expect(result.body.data.me).toEqual({
      id: String(alice.id),
      email: "alice@example.org",
      displayName: "Alice A.",
      isAdmin: false,
      active: true,
      createdAt: stored!.createdAt.toISOString(),
    });
  });

  test("lastUsedAt is write-behind: the flush writes, the requests do not", async () => {
    await app.services.lastUsed.flush();
    const { key: fresh } = await app.generateKey(alice);
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(fresh))).status;
    await expect(statementsFor(5, send, 200)).resolves.toEqual({ statements: 1, writes: 0 });
    expect(app.services.lastUsed.pendingCount).toBe(1);
    const before = counter.snapshot();
    await app.services.lastUsed.flush();
    expect(counter.snapshot().writes - before.writes).toBe(1);
  });

  test("checksum-broken key: 401 without any SQL", async () => {
    const broken = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(broken))).status;
    await expect(statementsFor(10, send, 401)).resolves.toEqual({ statements: 0, writes: 0 });
  });

  test("made-up key (well formed, valid checksum, no valid tag): 401 without any SQL", async () => {
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(madeUpKey()))).status;
    await expect(statementsFor(10, send, 401)).resolves.toEqual({ statements: 0, writes: 0 });
  });

  test("a session cookie's value sent as an API key: 401 without any SQL", async () => {
    const { key: cookieValue } = await app.services.keyTags.issue("cookie");
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(cookieValue))).status;
    await expect(statementsFor(5, send, 401)).resolves.toEqual({ statements: 0, writes: 0 });
  });

  test("a password-length string sent as an API key: 401 without hashing it", async () => {
    const hashing = jest.spyOn(keyFormat, "hashApiKey");
    try {
      const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey("correct horse battery staple"))).status;
      await expect(statementsFor(3, send, 401)).resolves.toEqual({ statements: 0, writes: 0 });
      expect(hashing).not.toHaveBeenCalled();
    } finally {
      hashing.mockRestore();
    }
  });

  test("deleted key sent again and again: one lookup, then none", async () => {
    const { key: gone, id } = await app.generateKey(alice);
    await app.services.apiKeys.revoke(SYSTEM_ACTOR, [id]);
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(gone))).status;
    await expect(statementsFor(10, send, 401)).resolves.toEqual({ statements: 1, writes: 0 });
  });

  test("revoked key: 401 on the very next request, though its lookup was cached", async () => {
    const { key: doomed, id } = await app.generateKey(alice);
    for (let i = 0; i < 3; i++) await expect(app.graphql("{ me { id } }", undefined, viaKey(doomed)).then((r) => r.status)).resolves.toBe(200);
    expect(app.services.revocations.cache.size).toBeGreaterThan(0);
    await app.services.apiKeys.revoke(SYSTEM_ACTOR, [id]);
    await expect(app.graphql("{ me { id } }", undefined, viaKey(doomed)).then((r) => r.status)).resolves.toBe(401);
  });
});

describe("SQL statements per authenticated request (key cache off)", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ KEY_CACHE_WINDOW_MS: "0" });
  });
  afterAll(async () => {
    await app.close();
  });

  test("key in Basic auth: exactly one statement per request, no write", async () => {
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(alice);
    const counter = countQueries(app.db.dataSource);
    for (let i = 0; i < 10; i++) await expect(app.graphql("{ me { id email } }", undefined, viaKey(key)).then((r) => r.status)).resolves.toBe(200);
    expect(counter.snapshot()).toMatchObject({ statements: 10, writes: 0 });
  });

  test("deleted key: one lookup per request (nothing remembered), made-up key: none", async () => {
    const bob = await app.createUser("bob@example.org");
    await app.setKeysEnabled(true);
    const { key, id } = await app.generateKey(bob);
    await app.services.apiKeys.revoke(SYSTEM_ACTOR, [id]);
    const counter = countQueries(app.db.dataSource);
    for (let i = 0; i < 5; i++) await expect(app.graphql("{ me { id } }", undefined, viaKey(key)).then((r) => r.status)).resolves.toBe(401);
    expect(counter.snapshot()).toMatchObject({ statements: 5, writes: 0 });
    for (let i = 0; i < 5; i++) await expect(app.graphql("{ me { id } }", undefined, viaKey(madeUpKey())).then((r) => r.status)).resolves.toBe(401);
    expect(counter.snapshot()).toMatchObject({ statements: 5, writes: 0 });
  });
});
