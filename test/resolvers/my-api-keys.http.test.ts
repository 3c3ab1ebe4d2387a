import { toSqlDateTime } from "../../src/db/data-source";
import { basic, errorCode, type GraphQLResult, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const GENERATE = "mutation { generateApiKey { key apiKey { id } } }";
const CAP = 3;
const ADMIN_CAP = 5;

/** Issue 13.2: one user made 20,063 keys in 30 s, and myApiKeys returned all of them at once. */
describe("keys per user are capped, and myApiKeys is bounded and paged", () => {
  let app: TestApp;
  let admin: TestUser;
  let users = 0;
  const freshUser = () => app.createUser(`keys${++users}@example.org`);
  let rows = 0;

  /** `count` key rows for `ownerId`, created a second apart (newest last), straight into the table. */
  async function insertKeys(ownerId: number, count: number, expiresAt: Date | null = null): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      rows += 1;
      await app.db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at, expires_at, read_only) VALUES (?, ?, 'xta_test…', ?, ?, 0)", [
        ownerId,
        rows.toString(16).padStart(64, "0"),
        toSqlDateTime(new Date(Date.UTC(2026, 0, 1) + rows * 1000)),
        expiresAt ? toSqlDateTime(expiresAt) : null,
      ]);
      const [row] = await app.db.dataSource.query("SELECT MAX(id) AS id FROM api_keys");
      ids.push(Number(row.id));
    }
    return ids;
  }

  beforeAll(async () => {
    // Concurrent password logins from one address are more than the line before bcrypt lets one client have.
    app = await startTestApp({ MAX_KEYS_PER_USER: String(CAP), MAX_KEYS_PER_ADMIN: String(ADMIN_CAP), BCRYPT_MAX_PER_CLIENT: "100", BCRYPT_QUEUE_MAX: "100" });
    admin = await app.createUser("keys-admin@example.org", { isAdmin: true });
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  test("at the cap, generateApiKey is a clear BAD_USER_INPUT; deleting a key makes room again", async () => {
    const user = await freshUser();
    const keys = [];
    for (let i = 0; i < CAP; i++) keys.push(await app.generateKey(user));
    const refused = await app.graphql(GENERATE, undefined, basic(user.email, user.password));
    expect(refused.status).toBe(400);
    expect(errorCode(refused)).toBe("BAD_USER_INPUT");
    expect(refused.body.errors![0].message).toMatch(new RegExp(`already have ${CAP} unexpired API keys`));
    expect(refused.body.data).toBeNull();
    // A read-write key of the user is refused the same way.
    expect((await app.graphql(GENERATE, undefined, viaKey(keys[0].key))).status).toBe(400);

    expect((await app.graphql("mutation ($id: ID!) { deleteMyApiKey(id: $id) }", { id: keys[0].id }, basic(user.email, user.password))).body.data.deleteMyApiKey).toBe(true);
    expect((await app.graphql(GENERATE, undefined, basic(user.email, user.password))).status).toBe(200);
  });

  test("expired keys do not count against the cap", async () => {
    const user = await freshUser();
    await insertKeys(user.id, CAP, new Date(Date.now() - 60_000));
    for (let i = 0; i < CAP; i++) expect((await app.graphql(GENERATE, undefined, basic(user.email, user.password))).status).toBe(200);
    expect((await app.graphql(GENERATE, undefined, basic(user.email, user.password))).status).toBe(400);
  });

  test("admins have their own, larger cap", async () => {
    for (let i = 0; i < ADMIN_CAP; i++) expect((await app.graphql(GENERATE, undefined, basic(admin.email, admin.password))).status).toBe(200);
    const refused = await app.graphql(GENERATE, undefined, basic(admin.email, admin.password));
    expect(refused.status).toBe(400);
    expect(refused.body.errors![0].message).toMatch(new RegExp(`already have ${ADMIN_CAP} unexpired API keys`));
  });

  test("concurrent generations cannot race past the cap", async () => {
    const user = await freshUser();
    const results = await Promise.all(Array.from({ length: 12 }, () => app.graphql(GENERATE, undefined, basic(user.email, user.password))));
    expect(results.filter((result) => result.status === 200)).toHaveLength(CAP);
    expect(results.filter((result) => result.status === 400 && errorCode(result) === "BAD_USER_INPUT")).toHaveLength(12 - CAP);
    const [row] = await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys WHERE owner_id = ?", [user.id]);
    expect(Number(row.n)).toBe(CAP);
  });

  test("myApiKeys: 50 newest by default, at most 500, the rest through `after` or myApiKeysPage", async () => {
    const user = await freshUser();
    const ids = (await insertKeys(user.id, 120)).reverse(); // newest first
    const auth = basic(user.email, user.password);

    const byDefault = await app.graphql("{ myApiKeys { id } }", undefined, auth);
    expect(byDefault.body.data.myApiKeys.map((key: { id: string }) => Number(key.id))).toEqual(ids.slice(0, 50));

    const all = await app.graphql("{ myApiKeys(first: 500) { id } }", undefined, auth);
    expect(all.body.data.myApiKeys).toHaveLength(120);

    const tooMany = await app.graphql("{ myApiKeys(first: 501) { id } }", undefined, auth);
    expect(tooMany.status).toBe(400);
    expect(errorCode(tooMany)).toBe("BAD_USER_INPUT");

    const PAGE = "query ($after: String) { myApiKeysPage(first: 50, after: $after) { nodes { id } totalCount pageInfo { hasNextPage endCursor } } }";
    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result: GraphQLResult = await app.graphql(PAGE, { after }, auth);
      expect(result.status).toBe(200);
      const connection: { nodes: Array<{ id: string }>; totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = result.body.data.myApiKeysPage;
      expect(connection.totalCount).toBe(120);
      seen.push(...connection.nodes.map((key: { id: string }) => Number(key.id)));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    const second = await app.graphql("query ($after: String) { myApiKeys(after: $after) { id } }", { after: (await app.graphql(PAGE, { after: null }, auth)).body.data.myApiKeysPage.pageInfo.endCursor }, auth);
    expect(second.body.data.myApiKeys.map((key: { id: string }) => Number(key.id))).toEqual(ids.slice(50, 100));
  });

  test("myApiKeys lists only the caller's keys", async () => {
    const [one, two] = [await freshUser(), await freshUser()];
    const [mine] = await insertKeys(one.id, 1);
    await insertKeys(two.id, 2);
    const result = await app.graphql("{ myApiKeys { id } myApiKeysPage { totalCount } }", undefined, basic(one.email, one.password));
    expect(result.body.data).toEqual({ myApiKeys: [{ id: String(mine) }], myApiKeysPage: { totalCount: 1 } });
  });
});
