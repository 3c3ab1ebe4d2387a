import { generateApiKey, hashApiKey, parseApiKey } from "../../src/keys/api-key-format";
import { KeyTags, readTagSecret, UNTAGGED_RECHECK_MS } from "../../src/keys/key-tags";
import { MIGRATIONS, toSqlDateTime } from "../../src/db/data-source";
import { KeyTags1764500000000 } from "../../src/migrations/1764500000000-key-tags";
import { countQueries } from "../../src/db/query-counter";
import { createRuntime } from "../../src/runtime";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startTestApp, type TestApp } from "../support/app";
import { madeUpKey, untaggedKey } from "../support/keys";

const parsed = (key: string) => {
  const result = parseApiKey(key);
  if (!result.ok) throw new Error("test key does not parse");
  return result;
};

async function insertUntaggedKeyRow(db: TestDatabase, ownerId: number, key: string): Promise<void> {
  await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at, tagged) VALUES (?, ?, ?, ?, 0)", [
    ownerId,
    hashApiKey(key),
    key.slice(0, 8) + "…",
    toSqlDateTime(new Date()),
  ]);
}

describe("key tags: which keys this server may have issued", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  beforeEach(async () => {
    await db.reset();
    await db.dataSource.query("INSERT INTO users (id, email, password_hash, is_admin, active, created_at) VALUES (1, 'old@example.org', 'x', 0, 1, ?)", [toSqlDateTime(new Date())]);
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("the migration made one 32-byte secret; issued keys carry its tag, made-up ones do not", async () => {
    const secret = await readTagSecret(db.dataSource);
    expect(secret).toHaveLength(32);
    const tags = new KeyTags(db.dataSource);
    const issued = await tags.issue();
    expect(generateApiKey(secret).key).not.toBe(issued.key);
    expect(tags.mayHaveIssued(parsed(issued.key))).toBe(true);
    expect(tags.mayHaveIssued(parsed(madeUpKey()))).toBe(false);
  });

  test("a missing or corrupt secret row is refused at load, never used as a key", async () => {
    const [{ secret }] = await db.dataSource.query("SELECT secret FROM key_tag_secret WHERE id = 1");
    const message = "key_tag_secret holds no 32-byte secret: run the migrations";
    try {
      // Longer than the column fits on MariaDB; SQLite stores any length.
      const tooLong = db.kind === "sqlite" ? ["x" + String(secret), String(secret) + "x"] : [];
      for (const corrupt of ["", "ab", String(secret).toUpperCase(), String(secret).slice(2) + "zz", String(secret).slice(2), ...tooLong]) {
        await db.dataSource.query("UPDATE key_tag_secret SET secret = ? WHERE id = 1", [corrupt]);
        await expect(readTagSecret(db.dataSource)).rejects.toThrow(message);
        await expect(new KeyTags(db.dataSource).issue()).rejects.toThrow(message);
      }
      await db.dataSource.query("DELETE FROM key_tag_secret");
      await expect(readTagSecret(db.dataSource)).rejects.toThrow(message);
    } finally {
      await db.dataSource.query("DELETE FROM key_tag_secret");
      await db.dataSource.query("INSERT INTO key_tag_secret (id, secret) VALUES (1, ?)", [secret]);
    }
    expect(await readTagSecret(db.dataSource)).toEqual(Buffer.from(String(secret), "hex"));
  });

  test("a load that failed (database away) is tried again on the next call", async () => {
    const tags = new KeyTags(db.dataSource);
    await db.dataSource.query("ALTER TABLE key_tag_secret RENAME TO key_tag_secret_moved");
    try {
      await expect(tags.load()).rejects.toThrow();
    } finally {
      await db.dataSource.query("ALTER TABLE key_tag_secret_moved RENAME TO key_tag_secret");
    }
    await expect(tags.load()).resolves.toHaveLength(32);
  });

  test("no untagged key stored: an untagged key is refused in memory", async () => {
    const tags = new KeyTags(db.dataSource);
    await tags.load();
    expect(tags.mayHaveIssued(parsed(untaggedKey()))).toBe(false);
  });

  test("untagged keys stored: untagged keys are looked up; once the last is gone, refused again after the recheck interval", async () => {
    await insertUntaggedKeyRow(db, 1, untaggedKey());
    let clock = 0;
    const tags = new KeyTags(db.dataSource, () => {}, () => clock);
    await tags.load();
    expect(tags.mayHaveIssued(parsed(untaggedKey()))).toBe(true);
    expect(tags.mayHaveIssued(parsed(madeUpKey()))).toBe(false); // tagged keys are judged by their tag alone

    await db.dataSource.query("DELETE FROM api_keys");
    clock += UNTAGGED_RECHECK_MS - 1;
    const counter = countQueries(db.dataSource);
    expect(tags.mayHaveIssued(parsed(untaggedKey()))).toBe(true); // not rechecked yet
    expect(counter.snapshot().statements).toBe(0);
    clock += 1;
    expect(tags.mayHaveIssued(parsed(untaggedKey()))).toBe(true); // starts the recheck
    for (let i = 0; i < 200 && tags.mayHaveIssued(parsed(untaggedKey())); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(tags.mayHaveIssued(parsed(untaggedKey()))).toBe(false);
    expect(counter.snapshot().statements).toBe(1);
  });

  test("migration: keys stored before it are marked untagged, keys stored after are tagged", async () => {
    await db.dataSource.query("DELETE FROM api_keys");
    // Undo every migration back to (and including) the one under test; later ones are re-run too.
    for (let undone = ""; undone !== "KeyTags1764500000000"; ) {
      const [last]: Array<{ name: string }> = await db.dataSource.query("SELECT name FROM migrations ORDER BY id DESC LIMIT 1");
      await db.dataSource.undoLastMigration({ transaction: "each" });
      undone = last.name;
    }
    try {
      await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at) VALUES (1, ?, 'xta_old…', ?)", ["a".repeat(64), toSqlDateTime(new Date())]);
    } finally {
      await db.dataSource.runMigrations({ transaction: "each" });
    }
    await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at) VALUES (1, ?, 'xta_new…', ?)", ["b".repeat(64), toSqlDateTime(new Date())]);
    const rows: Array<{ hint: string; tagged: unknown }> = await db.dataSource.query("SELECT hint, tagged FROM api_keys ORDER BY id");
    expect(rows.map((row) => [row.hint, Number(row.tagged)])).toEqual([
      ["xta_old…", 0],
      ["xta_new…", 1],
    ]);
  });
});

describe("key tags over HTTP: a server started with untagged keys stored", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  test("untagged key from before the upgrade: 200; made-up untagged key: 401 after one lookup; made-up tagged key: 401 without SQL", async () => {
    const owner = await app.createUser("legacy@example.org");
    await app.setKeysEnabled(true);
    const old = untaggedKey();
    await insertUntaggedKeyRow(app.db, owner.id, old);
    // A second server, started after the row exists (as after the migration that marked it).
    const upgraded = await createRuntime(app.config, { dataSource: app.db.dataSource, logger: app.logger, bcryptCost: 4 });
    const { url } = await (await upgraded.serve()).listen(0, "127.0.0.1");
    try {
      const ask = async (key: string) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Basic " + Buffer.from(`apikey:${key}`).toString("base64") },
          body: JSON.stringify({ query: "{ me { email } }" }),
        });
        return { status: response.status, body: await response.json() };
      };
      await expect(ask(old)).resolves.toEqual({ status: 200, body: { data: { me: { email: "legacy@example.org" } } } });
      const counter = countQueries(app.db.dataSource);
      await expect(ask(untaggedKey()).then((r) => r.status)).resolves.toBe(401);
      expect(counter.snapshot().statements).toBe(1);
      await expect(ask(madeUpKey()).then((r) => r.status)).resolves.toBe(401);
      expect(counter.snapshot().statements).toBe(1);
    } finally {
      await upgraded.stop();
    }
  });
});
