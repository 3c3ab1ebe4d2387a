import { CanonicalEmails1764600000000 } from "../../src/migrations/1764600000000-canonical-emails";
import { createTestDatabase, type TestDatabase } from "../support/database";

const HASH = "$2b$04$abcdefghijklmnopqrstuuJ4Wg7bcBA2xo4K1y7gR0dRkq6mXF5nu";

/** The migration against the schema it finds: users added before it ran, in any spelling. */
describe("migration: canonical emails", () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
    // Back to the schema before this migration (and whatever came after it).
    while ((await db.dataSource.query("SELECT name FROM migrations WHERE name = ?", [new CanonicalEmails1764600000000().name])).length > 0) {
      await db.dataSource.undoLastMigration({ transaction: "each" });
    }
  });
  afterEach(async () => {
    await db.destroy();
  });

  const insertUser = (email: string) =>
    db.dataSource.query("INSERT INTO users (email, display_name, password_hash, is_admin, active, created_at) VALUES (?, NULL, ?, 0, 1, '2026-01-01 00:00:00.000')", [email, HASH]);
  const emails = async () => (await db.dataSource.query("SELECT email FROM users ORDER BY id")).map((row: { email: string }) => row.email);

  test("existing emails become canonical, and lookups are exact afterwards", async () => {
    await insertUser("Mixed.Case@Example.org");
    await insertUser("ｆｕｌｌ@example.org");
    await insertUser("plain@example.org");
    await db.dataSource.runMigrations({ transaction: "each" });
    expect(await emails()).toEqual(["mixed.case@example.org", "full@example.org", "plain@example.org"]);
    await insertUser("plaín@example.org"); // another address now, on MariaDB as on SQLite
    expect(await db.dataSource.query("SELECT email FROM users WHERE email = ?", ["plain@example.org"])).toEqual([{ email: "plain@example.org" }]);
    expect(await db.dataSource.query("SELECT email FROM users WHERE email = ?", ["PLAIN@example.org"])).toEqual([]);
  });

  test("two users with one canonical address: the migration stops, says how many, and changes nothing", async () => {
    if (db.kind === "mariadb") {
      // utf8mb4_unicode_ci's unique index never let two spellings of one address in: nothing to collide.
      await insertUser("Bob@example.org");
      await expect(insertUser("bob@example.org")).rejects.toThrow();
      return;
    }
    await insertUser("Bob@example.org");
    await insertUser("bob@example.org");
    await insertUser("Carol@example.org");
    await insertUser("ｃａｒｏｌ@example.org");
    await insertUser("Dave@example.org");
    await expect(db.dataSource.runMigrations({ transaction: "each" })).rejects.toThrow(/2 email address\(es\) are shared by more than one user/);
    expect(await emails()).toEqual(["Bob@example.org", "bob@example.org", "Carol@example.org", "ｃａｒｏｌ@example.org", "Dave@example.org"]);
  });
});
