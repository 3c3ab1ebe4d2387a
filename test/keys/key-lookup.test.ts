import { QueryFailedError } from "typeorm";
import { createKeyLookup, KEY_LOOKUP_SQL, SQLITE_KEY_LOOKUP_SQL } from "../../src/keys/key-lookup";
import { toSqlDateTime } from "../../src/db/data-source";
import { createTestDatabase, type TestDatabase, testDatabaseKind } from "../support/database";
import { issueTestKey } from "../support/keys";

/** The hot path's one statement, on a table the optimizer has statistics for (ANALYZE ran). */
describe("key lookup statement", () => {
  let db: TestDatabase;
  const keys: Array<{ key: string; hash: string }> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const now = toSqlDateTime(new Date());
    for (let u = 1; u <= 5; u++) {
      await db.dataSource.query("INSERT INTO users (id, email, password_hash, is_admin, active, created_at) VALUES (?, ?, 'x', 0, 1, ?)", [u, `user${u}@example.org`, now]);
    }
    for (let i = 0; i < 200; i++) {
      const generated = issueTestKey();
      keys.push(generated);
      await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at) VALUES (?, ?, ?, ?)", [1 + (i % 5), generated.hash, generated.hint, now]);
    }
    await db.dataSource.query(db.kind === "sqlite" ? "ANALYZE" : "ANALYZE TABLE api_keys, users");
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("finds a key's row and its owner by hash, after ANALYZE", async () => {
    const lookup = createKeyLookup(db.dataSource);
    for (const index of [0, 77, 199]) {
      const row = await lookup(keys[index].hash);
      expect(row).toMatchObject({ key_hash: keys[index].hash, user_id: 1 + (index % 5), email: `user${1 + (index % 5)}@example.org` });
    }
  });

  test("unknown hash: no row", async () => {
    const lookup = createKeyLookup(db.dataSource);
    await expect(lookup(issueTestKey().hash)).resolves.toBeUndefined();
  });

  // Each database has its own plan check; the other's shows as skipped.
  const onSqlite = testDatabaseKind() === "sqlite" ? test : test.skip;
  const onMariadb = testDatabaseKind() === "mariadb" ? test : test.skip;

  onSqlite("SQLite: the cast hash still searches the unique index, then the owner by primary key", async () => {
    const plan = (await db.dataSource.query(`EXPLAIN QUERY PLAN ${SQLITE_KEY_LOOKUP_SQL}`, [keys[0].hash])) as Array<{ detail: string }>;
    expect(plan.map((step) => step.detail)).toEqual(["SEARCH k USING INDEX uq_api_keys_key_hash (key_hash=?)", "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"]);
  });

  onMariadb("MariaDB: the key by its unique index, the owner by primary key, one row each", async () => {
    const plan = (await db.dataSource.query(`EXPLAIN ${KEY_LOOKUP_SQL}`, [keys[0].hash])) as Array<{ table: string; type: string; key: string | null; rows: unknown }>;
    expect(plan.map(({ table, type, key, rows }) => ({ table, type, key, rows: Number(rows) }))).toEqual([
      { table: "k", type: "const", key: "uq_api_keys_key_hash", rows: 1 },
      { table: "u", type: "const", key: "PRIMARY", rows: 1 },
    ]);
  });

  test("a failing statement rejects with TypeORM's QueryFailedError naming the cause, like TypeORM's own", async () => {
    const lookup = createKeyLookup(db.dataSource);
    await db.dataSource.query("ALTER TABLE users RENAME TO users_gone");
    try {
      const failure = await lookup(keys[0].hash).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(QueryFailedError);
      expect(String((failure as Error).message)).toMatch(/users/);
    } finally {
      await db.dataSource.query("ALTER TABLE users_gone RENAME TO users");
    }
  });
});
