import pino from "pino";
import { toSqlDateTime } from "../../src/db/data-source";
import { loadConfig } from "../../src/config";
import { createServices, type Services } from "../../src/services";
import { FIRST_RUN_DELAY_MS, PurgeJob } from "../../src/services/purge-job";
import { createTestDatabase, type TestDatabase } from "../support/database";

const DAY = 24 * 3600_000;
const NOW = new Date("2026-06-15T12:00:00.000Z");

describe("expired-key retention and purge", () => {
  let db: TestDatabase;
  let services: Services;
  let ownerId: number;
  let counter = 0;
  const logger = pino({ level: "silent" });

  /** A key row expiring at `expiresAt` (null: never); returns its id. */
  const insertKey = async (expiresAt: Date | null): Promise<number> => {
    counter += 1;
    await db.dataSource.query("INSERT INTO api_keys (owner_id, key_hash, hint, created_at, expires_at, read_only) VALUES (?, ?, 'xta_test…', ?, ?, 0)", [
      ownerId,
      counter.toString(16).padStart(64, "0"),
      toSqlDateTime(new Date(NOW.getTime() - 400 * DAY)),
      expiresAt ? toSqlDateTime(expiresAt) : null,
    ]);
    const [row] = await db.dataSource.query("SELECT MAX(id) AS id FROM api_keys");
    return Number(row.id);
  };
  const remainingIds = async (): Promise<number[]> => (await db.dataSource.query("SELECT id FROM api_keys ORDER BY id")).map((row: { id: unknown }) => Number(row.id));
  const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);

  beforeAll(async () => {
    db = await createTestDatabase();
    services = createServices(db.dataSource, loadConfig({}), logger, { bcryptCost: 4 });
  });
  beforeEach(async () => {
    await db.reset();
    await db.dataSource.query("UPDATE external_tool_settings SET expired_key_retention_days = 30 WHERE id = 1");
    ownerId = (await services.users.create({ email: "owner@example.org", password: "owner-password" })).id;
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("the migration gives a retention of 30 days by default", async () => {
    const fresh = await createTestDatabase();
    try {
      const [row] = await fresh.dataSource.query("SELECT expired_key_retention_days AS days FROM external_tool_settings WHERE id = 1");
      expect(Number(row.days)).toBe(30);
    } finally {
      await fresh.destroy();
    }
  });

  test("purge deletes keys expired longer ago than the retention and keeps the rest", async () => {
    const old = await insertKey(daysAgo(31));
    const recent = await insertKey(daysAgo(29));
    const live = await insertKey(new Date(NOW.getTime() + DAY));
    const never = await insertKey(null);

    const result = await services.keyRetention.purgeExpired(NOW);

    expect(result).toEqual({ purged: 1, ids: [old], cutoff: daysAgo(30), retentionDays: 30 });
    expect(await remainingIds()).toEqual([recent, live, never]);
  });

  test("one EXPIRED_KEYS_PURGED audit event per run, with count and ids, also when nothing was due", async () => {
    const events = async () => db.dataSource.query("SELECT action, detail, actor_id FROM audit_events WHERE action = 'EXPIRED_KEYS_PURGED' ORDER BY id");
    await services.keyRetention.purgeExpired(NOW);
    const [empty, ...none] = await events();
    expect(none).toEqual([]);
    expect(empty.detail).toMatch(/^purged 0 key\(s\) expired at or before .* \(retention 30 days\)$/);
    const first = await insertKey(daysAgo(40));
    const second = await insertKey(daysAgo(50));
    await services.keyRetention.purgeExpired(NOW, { batchSize: 1 });
    const [, event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.actor_id).toBeNull();
    expect(event.detail).toContain("purged 2 key(s)");
    expect(event.detail).toContain(`ids ${first}, ${second}`);
  });

  test("expired keys stay listed, flagged expired, until purged", async () => {
    const recent = await insertKey(daysAgo(2));
    await services.keyRetention.purgeExpired(NOW);
    const listed = (await services.apiKeys.listForOwner(ownerId)).nodes;
    expect(listed.map((key) => [key.id, key.expired])).toEqual([[recent, true]]);
  });

  test("retention 0 purges every expired key at once, and only those", async () => {
    await services.settings.update({ expiredKeyRetentionDays: 0 });
    const justExpired = await insertKey(new Date(NOW.getTime() - 1));
    const live = await insertKey(new Date(NOW.getTime() + 1000));
    const result = await services.keyRetention.purgeExpired(NOW);
    expect(result.ids).toEqual([justExpired]);
    expect(await remainingIds()).toEqual([live]);
  });

  test("a longer retention keeps what a shorter one purges", async () => {
    await services.settings.update({ expiredKeyRetentionDays: 60 });
    const key = await insertKey(daysAgo(45));
    expect((await services.keyRetention.purgeExpired(NOW)).purged).toBe(0);
    await services.settings.update({ expiredKeyRetentionDays: 40 });
    expect((await services.keyRetention.purgeExpired(NOW)).ids).toEqual([key]);
  });

  test("bounded batches: every purgeable key goes, progress is reported per batch", async () => {
    const purgeable: number[] = [];
    for (let i = 0; i < 7; i++) purgeable.push(await insertKey(daysAgo(100 + i)));
    const kept = await insertKey(null);
    const progress: Array<[number, number]> = [];

    const result = await services.keyRetention.purgeExpired(NOW, { batchSize: 3, onProgress: (done, total) => progress.push([done, total]) });

    expect(result.ids).toEqual(purgeable);
    expect(progress).toEqual([
      [3, 7],
      [6, 7],
      [7, 7],
    ]);
    expect(await remainingIds()).toEqual([kept]);
    expect(await services.keyRetention.countPurgeable(NOW)).toBe(0);
  });

  test("retention outside 0..3650 days is refused as BAD_USER_INPUT and changes nothing", async () => {
    for (const days of [-1, 3651, 1.5]) {
      await expect(services.settings.update({ expiredKeyRetentionDays: days })).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    }
    expect((await services.settings.get()).expiredKeyRetentionDays).toBe(30);
    expect((await services.settings.update({ expiredKeyRetentionDays: 3650 })).expiredKeyRetentionDays).toBe(3650);
  });

  test("scheduled job: purges on its own timer and stops cleanly", async () => {
    await services.settings.update({ expiredKeyRetentionDays: 0 });
    await insertKey(new Date(Date.now() - 1000));
    const job = new PurgeJob(services.keyRetention, 20, logger);
    job.start();
    try {
      const deadline = Date.now() + 5000;
      while ((await remainingIds()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await job.stop();
    }
    expect(await remainingIds()).toEqual([]);
  });

  test("scheduled job: the first run comes after the shorter of the interval and 5 minutes, then every interval", async () => {
    jest.useFakeTimers();
    try {
      const runs: number[] = [];
      const job = new PurgeJob({ purgeExpired: async () => (runs.push(Date.now()), { purged: 0, ids: [], cutoff: NOW, retentionDays: 30 }) }, 3600_000, logger);
      const started = Date.now();
      job.start();
      await jest.advanceTimersByTimeAsync(FIRST_RUN_DELAY_MS - 1);
      expect(runs).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      await jest.advanceTimersByTimeAsync(3600_000 - FIRST_RUN_DELAY_MS);
      expect(runs.map((at) => at - started)).toEqual([FIRST_RUN_DELAY_MS, 3600_000]);
      await job.stop();
      await jest.advanceTimersByTimeAsync(2 * 3600_000);
      expect(runs).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  test("scheduled job: a failing run is logged, resolves null and does not throw", async () => {
    const lines: string[] = [];
    const capture = pino({ level: "error" }, { write: (line: string) => lines.push(line) });
    const job = new PurgeJob({ purgeExpired: () => Promise.reject(new Error("database gone")) }, 3600_000, capture);
    await expect(job.runOnce()).resolves.toBeNull();
    expect(lines.join("")).toContain("expired-key purge failed");
  });

  test("scheduled job: a run already in progress is not started twice", async () => {
    let calls = 0;
    let release!: () => void;
    const job = new PurgeJob(
      {
        purgeExpired: () => {
          calls += 1;
          return new Promise((resolve) => {
            release = () => resolve({ purged: 0, ids: [], cutoff: NOW, retentionDays: 30 });
          });
        },
      },
      3600_000,
      logger,
    );
    const first = job.runOnce();
    await expect(job.runOnce()).resolves.toBeNull();
    release();
    await expect(first).resolves.toMatchObject({ purged: 0 });
    expect(calls).toBe(1);
  });
});
