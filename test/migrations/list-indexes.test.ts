import { ListIndexes1765050000000 } from "../../src/migrations/1765050000000-list-indexes";
import { createTestDatabase, type TestDatabase } from "../support/database";

const NEW_INDEXES = ["idx_api_keys_last_used", "idx_api_keys_owner_expires", "idx_api_keys_owner_last_used"];

/** The key lists' indexes, added to a database that already holds keys, and taken away again. */
describe("migration: list indexes", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    while ((await db.dataSource.query("SELECT name FROM migrations WHERE name = ?", [new ListIndexes1765050000000().name])).length > 0) {
      await db.dataSource.undoLastMigration({ transaction: "each" });
    }
  });
  afterAll(async () => {
    await db.destroy();
  });

  const indexes = async (): Promise<string[]> => {
    const rows: Array<Record<string, string>> =
      db.kind === "sqlite" ? await db.dataSource.query("PRAGMA index_list(api_keys)") : await db.dataSource.query("SHOW INDEX FROM api_keys");
    return [...new Set(rows.map((row) => row.name ?? row.Key_name))].filter((name) => NEW_INDEXES.includes(name)).sort();
  };

  test("migration:run on a database with keys creates the indexes and keeps every key; revert drops them", async () => {
    expect(await indexes()).toEqual([]);
    await db.dataSource.query("INSERT INTO users (id, email, password_hash, is_admin, active, created_at) VALUES (1, 'a@example.org', 'x', 1, 1, '2026-01-01 00:00:00.000')");
    for (let i = 1; i <= 50; i++) {
      await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at, expires_at, last_used_at) VALUES (1, ?, 'xta_…', '2026-01-01 00:00:00.000', ?, ?)", [
        String(i).padStart(64, "0"),
        i % 2 ? null : "2026-02-01 00:00:00.000",
        i % 3 ? null : "2026-01-15 00:00:00.000",
      ]);
    }
    await db.dataSource.runMigrations({ transaction: "each" });
    expect(await indexes()).toEqual(NEW_INDEXES);
    expect(Number((await db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys"))[0].n)).toBe(50);
    await db.dataSource.undoLastMigration({ transaction: "each" });
    expect(await indexes()).toEqual([]);
    await db.dataSource.runMigrations({ transaction: "each" });
    expect(await indexes()).toEqual(NEW_INDEXES);
  });
});
