import Database from "better-sqlite3";
import pino from "pino";
import type { DataSource } from "typeorm";
import { createDataSource } from "../../src/db/data-source";
import type { CachedKey } from "../../src/keys/key-cache";
import { RevocationEpoch } from "../../src/keys/revocation-epoch";
import { createTestDatabase, testDatabaseKind, type TestDatabase } from "../support/database";
import { capturingLogger } from "../support/logs";

const onSqlite = testDatabaseKind() === "sqlite" ? test : test.skip;
const onMysql = testDatabaseKind() === "mariadb" ? test : test.skip;
const silent = pino({ level: "silent" });
const entry: CachedKey = { keyId: 1, userId: 1, email: "alice@example.org", isAdmin: false, active: true, expiresAt: null, readOnly: false, displayName: null, userCreatedAt: new Date(0), lastUsedAt: null };

/**
 * The revocation generation between two instances: `there` is the instance that revokes, `here`
 * (a DataSource of its own on the same database, as another process would have) the one whose
 * cache must let go.
 */
describe("revocation epoch: a revocation on one instance reaches the others' caches", () => {
  let db: TestDatabase;
  let otherInstance: DataSource;
  const generation = async () => BigInt(String((await db.dataSource.query("SELECT generation FROM revocation_epoch WHERE id = 1"))[0].generation));

  beforeAll(async () => {
    db = await createTestDatabase();
    otherInstance = await db.openAnotherInstance();
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("bump: commits with the revoking transaction, or not at all", async () => {
    const epoch = new RevocationEpoch(db.dataSource, { windowMs: 0, maxEntries: 10 }, silent);
    const before = await generation();
    await db.dataSource.transaction((manager) => epoch.bump(manager));
    expect(await generation()).toBe(before + 1n);
    const failing = db.dataSource.transaction(async (manager) => {
      await epoch.bump(manager);
      throw new Error("the revocation failed");
    });
    await expect(failing).rejects.toThrow("the revocation failed");
    expect(await generation()).toBe(before + 1n);
  });

  test("another instance's bump empties this instance's cache at its next poll; no bump, no change", async () => {
    const here = new RevocationEpoch(otherInstance, { windowMs: 60_000, maxEntries: 10 }, silent);
    const there = new RevocationEpoch(db.dataSource, { windowMs: 60_000, maxEntries: 10 }, silent);
    try {
      await here.cache.poll();
      here.cache.set("h1", entry, here.cache.version);
      await here.cache.poll();
      expect(here.cache.get("h1")).toBe(entry);
      await db.dataSource.transaction((manager) => there.bump(manager));
      await here.cache.poll();
      expect(here.cache.get("h1")).toBeUndefined();
    } finally {
      await here.stop();
      await there.stop();
    }
  });

  test("the poll sees the latest commit even while a transaction is open on this instance", async () => {
    const here = new RevocationEpoch(otherInstance, { windowMs: 60_000, maxEntries: 10 }, silent);
    const there = new RevocationEpoch(db.dataSource, { windowMs: 60_000, maxEntries: 10 }, silent);
    const request = otherInstance.createQueryRunner();
    try {
      await here.cache.poll();
      here.cache.set("h1", entry, here.cache.version);
      // A request of this instance holds a read transaction (and so, on SQLite, a snapshot).
      await request.startTransaction();
      await request.query("SELECT generation FROM revocation_epoch WHERE id = 1");
      await db.dataSource.transaction((manager) => there.bump(manager));
      await here.cache.poll();
      expect(here.cache.get("h1")).toBeUndefined();
    } finally {
      if (request.isTransactionActive) await request.rollbackTransaction();
      await request.release();
      await here.stop();
      await there.stop();
    }
  });

  test("start polls by itself; stop ends polling and lets the cache go; start again polls again", async () => {
    const here = new RevocationEpoch(otherInstance, { windowMs: 60_000, maxEntries: 10 }, silent);
    const polled = async () => {
      for (let i = 0; i < 200 && !here.cache.fresh; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      return here.cache.fresh;
    };
    try {
      here.start();
      expect(await polled()).toBe(true);
      await here.stop();
      expect(here.cache.fresh).toBe(false);
      here.start();
      expect(await polled()).toBe(true);
    } finally {
      await here.stop();
    }
  });

  onSqlite("an in-memory SQLite database (one process owns it): the poll reads through the shared connection", async () => {
    const memory = createDataSource({ kind: "sqlite", path: ":memory:" });
    await memory.initialize();
    await memory.runMigrations({ transaction: "each" });
    const epoch = new RevocationEpoch(memory, { windowMs: 60_000, maxEntries: 10 }, silent);
    try {
      await epoch.cache.poll();
      expect(epoch.cache.fresh).toBe(true);
    } finally {
      await epoch.stop();
      await memory.destroy();
    }
  });

  onSqlite("on an SQLite file, the poll has a connection of its own (read-only), closed on stop", async () => {
    const closing = jest.spyOn(Database.prototype, "close");
    const preparing = jest.spyOn(Database.prototype, "prepare");
    const here = new RevocationEpoch(otherInstance, { windowMs: 60_000, maxEntries: 10 }, silent);
    try {
      await here.cache.poll();
      const [own] = preparing.mock.contexts as Database.Database[];
      expect(own).toBeDefined();
      expect(own.readonly).toBe(true);
      expect(own).not.toBe((otherInstance.driver as unknown as { databaseConnection: Database.Database }).databaseConnection);
      expect(closing).not.toHaveBeenCalled();
      await here.stop();
      expect(closing.mock.contexts).toEqual([own]);
      expect(own.open).toBe(false);
    } finally {
      closing.mockRestore();
      preparing.mockRestore();
    }
  });

  onMysql("on MySQL, a poll once the pool has closed is reported, not thrown", async () => {
    const closed = await db.openAnotherInstance();
    const { logger, lines } = capturingLogger();
    const here = new RevocationEpoch(closed, { windowMs: 60_000, maxEntries: 10 }, logger);
    await closed.destroy();
    await here.cache.poll();
    expect(lines).toHaveLength(1);
    expect(here.cache.fresh).toBe(false);
  });

  test("a poll that fails is logged as a warning", async () => {
    const { logger, lines } = capturingLogger();
    const here = new RevocationEpoch(otherInstance, { windowMs: 1000, maxEntries: 10 }, logger);
    await here.cache.poll();
    await db.dataSource.query("ALTER TABLE revocation_epoch RENAME TO revocation_epoch_moved");
    try {
      await here.cache.poll();
    } finally {
      await db.dataSource.query("ALTER TABLE revocation_epoch_moved RENAME TO revocation_epoch");
      await here.stop();
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 40, msg: "could not poll the revocation generation; cached key lookups are not used until it works again", err: { message: expect.any(String) } });
  });

  describe("settled (after a revocation committed)", () => {
    // Timers are faked only around settled(): the database driver needs real ones.
    afterEach(() => jest.useRealTimers());

    test("forgets this instance's cache at once, then waits out the window and a 25 ms margin", async () => {
      const epoch = new RevocationEpoch(db.dataSource, { windowMs: 1000, maxEntries: 10 }, silent);
      await epoch.cache.poll();
      epoch.cache.set("h1", entry, epoch.cache.version);
      jest.useFakeTimers({ doNotFake: ["performance"] });
      let returned = false;
      const settling = epoch.settled().then(() => (returned = true));
      expect(epoch.cache.size).toBe(0);
      await jest.advanceTimersByTimeAsync(1024);
      expect(returned).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(returned).toBe(true);
      await settling;
    });

    test("with the cache off there is nothing to wait for: it returns at once", async () => {
      const epoch = new RevocationEpoch(db.dataSource, { windowMs: 0, maxEntries: 10 }, silent);
      jest.useFakeTimers({ doNotFake: ["performance"] });
      let returned = false;
      void epoch.settled().then(() => (returned = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(returned).toBe(true);
    });
  });
});
