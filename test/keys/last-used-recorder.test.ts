import pino from "pino";
import { LastUsedRecorder } from "../../src/keys/last-used-recorder";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { capturingLogger } from "../support/logs";

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

  test("a flush of exactly 250 keys (one full statement) writes them all, with no empty statement after", async () => {
    const [user] = await db.dataSource.query("SELECT id FROM users");
    const values = Array.from({ length: 249 }, (_, i) => `(${Number(user.id)}, '${(i + 1).toString(16).padStart(64, "0")}', 'xta_abcd…', '2026-01-01 00:00:00.000', 0)`);
    await db.dataSource.query(`INSERT INTO api_keys (owner_id, key_hash, hint, created_at, read_only) VALUES ${values.join(", ")}`);
    const ids: number[] = (await db.dataSource.query("SELECT id FROM api_keys ORDER BY id")).map((row: { id: unknown }) => Number(row.id));
    expect(ids).toHaveLength(250);
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    const outcomes: boolean[] = [];
    recorder.onFlush((_seconds, _written, ok) => outcomes.push(ok));
    for (const id of ids) recorder.record(id, null, new Date("2026-06-12T00:00:00.000Z"));
    await recorder.flush();
    expect(outcomes).toEqual([true]);
    const [{ written }] = await db.dataSource.query("SELECT COUNT(*) AS written FROM api_keys WHERE last_used_at IS NOT NULL");
    expect(Number(written)).toBe(250);
  });

  test("the timer flushes by itself", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 20 }, logger);
    recorder.start();
    recorder.record(keyId, null, new Date("2026-06-03T00:00:00.000Z"));
    for (let i = 0; i < 100 && recorder.pendingCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(recorder.pendingCount).toBe(0); // written by the timer, not by stop()
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
  test("record() returns the time queued, or null when nothing was queued", () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 60_000, flushIntervalMs: 3_600_000 }, logger);
    const at = Date.parse("2026-06-01T12:00:00.000Z");
    expect(recorder.record(keyId, null, at)).toEqual(new Date(at));
    expect(recorder.record(keyId, null, at + 1)).toBeNull(); // already pending
    expect(recorder.record(keyId + 1, new Date(at), at + 59_999)).toBeNull(); // stored use too recent
    expect(recorder.record(keyId + 1, new Date(at), at + 60_000)).toEqual(new Date(at + 60_000)); // exactly one interval later
  });

  test("at maxPending, further keys wait for their next use; a failed flush puts back no more than maxPending", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000, maxPending: 2 }, logger);
    const at = new Date("2026-06-06T00:00:00.000Z");
    expect(recorder.record(1001, null, at)).not.toBeNull();
    expect(recorder.record(1002, null, at)).not.toBeNull();
    expect(recorder.record(1003, null, at)).toBeNull();
    expect(recorder.pendingCount).toBe(2);

    // While the failing flush is under way, two new keys are used and fill the map again: the
    // batch's own uses find no room on the way back.
    const unsubscribe = recorder.onFlush((_seconds, _written, ok) => {
      if (!ok) {
        recorder.record(2001, null, at);
        recorder.record(2002, null, at);
      }
    });
    await db.dataSource.query("ALTER TABLE api_keys RENAME TO api_keys_moved");
    try {
      await recorder.flush();
    } finally {
      await db.dataSource.query("ALTER TABLE api_keys_moved RENAME TO api_keys");
      unsubscribe();
    }
    expect(recorder.pendingCount).toBe(2);
  });

  test("by default at most 100,000 keys wait for a flush", () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    for (let id = 1; id <= 100_001; id++) recorder.record(id, null, 0);
    expect(recorder.pendingCount).toBe(100_000);
  });

  test("a use noted during a failed flush wins over the batch's older one for the same key", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    recorder.record(keyId, null, new Date("2026-06-07T00:00:00.000Z"));
    recorder.onFlush((_seconds, _written, ok) => {
      if (!ok) recorder.record(keyId, null, new Date("2026-06-07T00:05:00.000Z"));
    });
    await db.dataSource.query("ALTER TABLE api_keys RENAME TO api_keys_moved");
    try {
      await recorder.flush();
    } finally {
      await db.dataSource.query("ALTER TABLE api_keys_moved RENAME TO api_keys");
    }
    await recorder.flush();
    expect((await read())?.toISOString()).toBe("2026-06-07T00:05:00.000Z");
  });

  test("flush listeners hear each flush that had something to write: its duration, how many, and whether it worked", async () => {
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, logger);
    const heard: Array<{ seconds: number; written: number; ok: boolean }> = [];
    const unsubscribe = recorder.onFlush((seconds, written, ok) => heard.push({ seconds, written, ok }));
    await recorder.flush(); // nothing pending: nothing to hear
    expect(heard).toEqual([]);

    recorder.record(keyId, null, new Date("2026-06-08T00:00:00.000Z"));
    recorder.record(keyId + 1, null, new Date("2026-06-08T00:00:00.000Z"));
    await recorder.flush();
    expect(heard).toEqual([{ seconds: expect.any(Number), written: 2, ok: true }]);
    expect(heard[0].seconds).toBeGreaterThan(0);
    expect(heard[0].seconds).toBeLessThan(60);

    await db.dataSource.query("ALTER TABLE api_keys RENAME TO api_keys_moved");
    try {
      recorder.record(keyId, null, new Date("2026-06-09T00:00:00.000Z"));
      await recorder.flush();
    } finally {
      await db.dataSource.query("ALTER TABLE api_keys_moved RENAME TO api_keys");
    }
    expect(heard[1]).toEqual({ seconds: expect.any(Number), written: 1, ok: false });

    unsubscribe();
    await recorder.flush();
    expect(heard).toHaveLength(2);
  });

  test("a failed flush is logged as a warning with the error, the table and what waits, and no key value", async () => {
    const { logger: warnings, lines } = capturingLogger();
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000 }, warnings);
    recorder.record(keyId, null, new Date("2026-06-10T00:00:00.000Z"));
    await db.dataSource.query("ALTER TABLE api_keys RENAME TO api_keys_moved");
    try {
      await recorder.flush();
    } finally {
      await db.dataSource.query("ALTER TABLE api_keys_moved RENAME TO api_keys");
    }
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ level: 40, pending: 1, table: "api_keys", msg: "could not write api_keys.last_used_at; will retry" });
    expect(entry.err.message).toEqual(expect.any(String));
  });

  test("session activity: the recorder writes sessions.last_seen_at when told to", async () => {
    const [user] = await db.dataSource.query("SELECT id FROM users");
    await db.dataSource.query("INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at) VALUES (?, ?, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000', '2027-01-01 00:00:00.000')", [user.id, "e".repeat(64)]);
    const [session] = await db.dataSource.query("SELECT id FROM sessions");
    const recorder = new LastUsedRecorder(db.dataSource, { minIntervalMs: 0, flushIntervalMs: 3_600_000, target: { table: "sessions", column: "last_seen_at" } }, logger);
    recorder.record(Number(session.id), null, new Date("2026-06-11T00:00:00.000Z"));
    await recorder.flush();
    const [row] = await db.dataSource.query("SELECT last_seen_at FROM sessions");
    const seen = row.last_seen_at instanceof Date ? row.last_seen_at : new Date(String(row.last_seen_at).replace(" ", "T") + "Z");
    expect(seen.toISOString()).toBe("2026-06-11T00:00:00.000Z");
    expect(await read()).toBeNull();
    await db.dataSource.query("DELETE FROM sessions");
  });
});
