import { SYSTEM_ACTOR } from "../../src/entities/audit-event.entity";
import { generateApiKey } from "../../src/auth/api-key-format";
import { countQueries, type QueryCounter } from "../../src/db/query-counter";
import { startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

/** The hot path's budget (issue 4): one SQL statement per key-authenticated request, no writes. */
describe("SQL statements per authenticated request", () => {
  let app: TestApp;
  let alice: TestUser;
  let counter: QueryCounter;
  let key: string;

  beforeAll(async () => {
    app = await startTestApp();
    alice = await app.createUser("alice@example.org");
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

  test("key in Basic auth, { me { id email } }: exactly one statement per request, no write", async () => {
    const send = async () => (await app.graphql("{ me { id email displayName createdAt isAdmin active } }", undefined, viaKey(key))).status;
    await expect(statementsFor(20, send, 200)).resolves.toEqual({ statements: 20, writes: 0 });
  });

  test("key in the apikey header: exactly one statement per request, no write", async () => {
    const send = async () => (await app.graphql("{ me { id } }", undefined, { apikey: key })).status;
    await expect(statementsFor(10, send, 200)).resolves.toEqual({ statements: 10, writes: 0 });
  });

  test("me answered from the authentication read: the same user as in the database", async () => {
    const result = await app.graphql("{ me { id email displayName isAdmin active createdAt } }", undefined, viaKey(key));
    const stored = await app.services.users.findById(alice.id);
    expect(result.body.data.me).toEqual({
      id: String(alice.id),
      email: "alice@example.org",
      displayName: stored!.displayName,
      isAdmin: false,
      active: true,
      createdAt: stored!.createdAt.toISOString(),
    });
  });

  test("lastUsedAt is write-behind: the flush writes, the requests do not", async () => {
    await app.services.lastUsed.flush();
    const { key: fresh } = await app.generateKey(alice);
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(fresh))).status;
    await expect(statementsFor(5, send, 200)).resolves.toEqual({ statements: 5, writes: 0 });
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

  test("well-formed unknown key: 401 after exactly one lookup", async () => {
    const send = async () => (await app.graphql("{ me { id } }", undefined, viaKey(generateApiKey().key))).status;
    await expect(statementsFor(10, send, 401)).resolves.toEqual({ statements: 10, writes: 0 });
  });

  test("revoked key: 401 on the very next request (the lookup is never cached)", async () => {
    const { key: doomed, id } = await app.generateKey(alice);
    await expect(app.graphql("{ me { id } }", undefined, viaKey(doomed)).then((r) => r.status)).resolves.toBe(200);
    await app.services.apiKeys.revoke(SYSTEM_ACTOR, [id]);
    await expect(app.graphql("{ me { id } }", undefined, viaKey(doomed)).then((r) => r.status)).resolves.toBe(401);
  });
});
