import { toSqlDateTime } from "../../src/db/data-source";
import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const ROTATE = `mutation($id: ID!, $overlapSeconds: Int, $idempotencyKey: String) {
  rotateApiKey(id: $id, overlapSeconds: $overlapSeconds, idempotencyKey: $idempotencyKey) { key apiKey { id } }
}`;
const ME = "{ me { email } }";
const CONCURRENT_ROTATIONS = 10;

describe("rotateApiKey: one successor per key, never from a dead or replaced key", () => {
  let app: TestApp;
  let alice: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);
  const keyIds = async (): Promise<number[]> => (await app.db.dataSource.query("SELECT id FROM api_keys ORDER BY id")).map((row: { id: unknown }) => Number(row.id));

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  async function rotateConcurrently(id: string, overlapSeconds: number) {
    const results = await Promise.all(
      Array.from({ length: CONCURRENT_ROTATIONS }, (_, i) =>
        // Half retry-safe with their own idempotency keys, half plain: neither kind may win twice.
        app.graphql(ROTATE, { id, overlapSeconds, idempotencyKey: i % 2 ? `rotation-attempt-${i}-of-many` : null }, as(alice)),
      ),
    );
    const winners = results.filter((result) => result.body.data?.rotateApiKey);
    const losers = results.filter((result) => !result.body.data?.rotateApiKey);
    return { winners, losers };
  }

  test.each([0, 3600])("%i s overlap: of 10 concurrent rotations of one key exactly one succeeds and one successor exists", async (overlapSeconds) => {
    const old = await app.generateKey(alice, { description: "ci" });
    const { winners, losers } = await rotateConcurrently(old.id, overlapSeconds);

    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(CONCURRENT_ROTATIONS - 1);
    for (const loser of losers) {
      expect(loser.status).toBeLessThan(500);
      expect(["NOT_FOUND", "BAD_USER_INPUT"]).toContain(errorCode(loser));
    }
    const successor = winners[0].body.data.rotateApiKey;
    const expected = overlapSeconds === 0 ? [Number(successor.apiKey.id)] : [Number(old.id), Number(successor.apiKey.id)];
    expect(await keyIds()).toEqual(expected);
    expect((await app.graphql(ME, undefined, viaKey(successor.key))).status).toBe(200);
  });

  test("an expired key cannot be rotated: 400, and no key is made", async () => {
    const old = await app.generateKey(alice);
    await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", [toSqlDateTime(new Date(Date.now() - 1000)), Number(old.id)]);
    const result = await app.graphql(ROTATE, { id: old.id }, as(alice));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.body.errors![0].message).toMatch(/expired/);
    expect(await keyIds()).toEqual([Number(old.id)]);
  });

  test("a key in its overlap cannot be rotated again, by itself or by its owner; its successor can", async () => {
    const old = await app.generateKey(alice);
    const successor = (await app.graphql(ROTATE, { id: old.id, overlapSeconds: 3600 }, as(alice))).body.data.rotateApiKey;

    for (const credentials of [viaKey(old.key), as(alice)]) {
      const again = await app.graphql(ROTATE, { id: old.id, overlapSeconds: 3600 }, credentials);
      expect(again.status).toBe(400);
      expect(errorCode(again)).toBe("BAD_USER_INPUT");
      expect(again.body.errors![0].message).toMatch(/already rotated/);
    }
    expect(await keyIds()).toEqual([Number(old.id), Number(successor.apiKey.id)]);

    const next = await app.graphql(ROTATE, { id: successor.apiKey.id }, as(alice));
    expect(next.body.data?.rotateApiKey).toBeTruthy();
  });

  test("once the successor is used the replaced key is gone: rotating it is 404", async () => {
    const old = await app.generateKey(alice);
    const successor = (await app.graphql(ROTATE, { id: old.id, overlapSeconds: 3600 }, as(alice))).body.data.rotateApiKey;
    expect((await app.graphql(ME, undefined, viaKey(successor.key))).status).toBe(200);
    const result = await app.graphql(ROTATE, { id: old.id }, as(alice));
    expect(errorCode(result)).toBe("NOT_FOUND");
  });
});
