import pino from "pino";
import { LastUsedRecorder } from "../../src/keys/last-used-recorder";
import { createTestDatabase, type TestDatabase } from "../support/database";

describe("lastUsedAt write-behind", () => {
  let db: TestDatabase;
  let keyId: number;
  const logger = pino({ level: "silent" });
  const read = async () => {
    const [row] = await db.dataSource.query("SELECT last_used_at FROM api_keys WHERE id = ?", [keyId]);
    return row.last_used_at === null ? null : new Date(row.last_used_at instanceof Date ? row.last_used_at : row.last_used_at.replace(" ", "T") + "Z");
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  beforeEach(async () => {
    await db.reset();
    await db.dataSource.query("INSERT INTO users (email, password_hash, is_admin, active, created_at) VALUES ('a@example.org', 'x', 0, 1, '2026-01-01 00:00:00.000')");
    const [user] = await db.dataSource.query("SELECT id FROM users");
    await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at, read_only) VALUES (?, ?, 'xta_abcd…', '2026-01-01 00:00:00.000', 0)", [user.id, "f".repeat(64)]);
    [{ id: keyId }] = await db.dataSource.query("SELECT id FROM api_keys");
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("many uses within the interval: one pending write, then one stored timestamp", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 60_000, flushIntervalMs: 3_600_000 }, logger);
    const at = new Date("2026-06-01T12:00:00.123Z");
    for (let i = 0; i < 100; i++) recorder.record(keyId, null, new Date(at.getTime() + i));
    expect(recorder.pendingCount).toBe(1);
    await recorder.flush();
    expect(recorder.pendingCount).toBe(0);
    expect((await read())?.toISOString()).toBe(at.toISOString());
  });

  test("a key used less than a minute after its stored use is not queued", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 60_000, flushIntervalMs: 3_600_000 }, logger);
    const stored = new Date("2026-06-01T12:00:00.000Z");
    recorder.record(keyId, stored, new Date(stored.getTime() + 59_000));
    expect(recorder.pendingCount).toBe(0);
    recorder.record(keyId, stored, new Date(stored.getTime() + 61_000));
    expect(recorder.pendingCount).toBe(1);
  });

  test("never moves lastUsedAt backwards (another instance wrote a later use)", async () => {
    await db.dataSource.query("UPDATE api_keys SET last_used_at = '2026-06-02 00:00:00.000' WHERE id = ?", [keyId]);
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    recorder.record(keyId, null, new Date("2026-06-01T00:00:00.000Z"));
    await recorder.flush();
    expect((await read())?.toISOString()).toBe("2026-06-02T00:00:00.000Z");
  });

  test("a flush of 600 keys (three statements): each key gets its own time, none moves backwards", async () => {
    const [user] = await db.dataSource.query("SELECT id FROM users");
    const values = Array.from({ length: 599 }, (_, i) => `(${Number(user.id)}, '${i.toString(16).padStart(64, "0")}', 'xta_abcd…', '2026-01-01 00:00:00.000', 0)`);
    await db.dataSource.query(`INSERT INTO api_keys (owner_id, key_hash, hint, created_at, read_only) VALUES ${values.join(", ")}`);
    const ids: number[] = (await db.dataSource.query("SELECT id FROM api_keys ORDER BY id")).map((row: { id: unknown }) => Number(row.id));
    expect(ids).toHaveLength(600);
    // Every third key already holds a later use (another instance): it must keep it.
    for (const id of ids.filter((_, i) => i % 3 === 0)) await db.dataSource.query("UPDATE api_keys SET last_used_at = '2027-01-01 00:00:00.000' WHERE id = ?", [id]);
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    const base = Date.parse("2026-06-01T00:00:00.000Z");
    ids.forEach((id, i) => recorder.record(id, null, new Date(base + i * 1000)));
    await recorder.flush();
    const rows: Array<{ id: unknown; last_used_at: unknown }> = await db.dataSource.query("SELECT id, last_used_at FROM api_keys ORDER BY id");
    const stored = rows.map((row) => (row.last_used_at instanceof Date ? row.last_used_at : new Date(String(row.last_used_at).replace(" ", "T") + "Z")).toISOString());
    expect(stored).toEqual(ids.map((_, i) => (i % 3 === 0 ? "2027-01-01T00:00:00.000Z" : new Date(base + i * 1000).toISOString())));
  });

  test("the timer flushes by itself", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 20 }, logger);
    recorder.start();
    recorder.record(keyId, null, new Date("2026-06-03T00:00:00.000Z"));
    for (let i = 0; i < 100 && recorder.pendingCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await recorder.stop();
    expect((await read())?.toISOString()).toBe("2026-06-03T00:00:00.000Z");
  });

  test("a failed write keeps the uses for the next flush", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    recorder.record(keyId, null, new Date("2026-06-04T00:00:00.000Z"));
    await db.dataSource.query("ALTER TABLE api_keys RENAME TO api_keys_moved");
    try {
      await recorder.flush();
      expect(recorder.pendingCount).toBe(1);
    } finally {
      await db.dataSource.query("ALTER TABLE api_keys_moved RENAME TO api_keys");
    }
    await recorder.flush();
    expect(recorder.pendingCount).toBe(0);
    expect((await read())?.toISOString()).toBe("2026-06-04T00:00:00.000Z");
  });

  test("stop() writes what is pending (shutdown)", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    recorder.start();
    recorder.record(keyId, null, new Date("2026-06-05T00:00:00.000Z"));
    await recorder.stop();
    expect((await read())?.toISOString()).toBe("2026-06-05T00:00:00.000Z");
  });
});
