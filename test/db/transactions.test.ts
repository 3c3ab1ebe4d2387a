import { spawn } from "node:child_process";
import type { DataSource, EntityManager } from "typeorm";
import { isDatabaseUnavailable } from "../../src/db/database-faults";
import { DEADLOCK_TRIES, inTransaction, isDeadlock } from "../../src/db/transactions";
import { createTestDatabase, type TestDatabase } from "../support/database";

const BUMP = "UPDATE revocation_epoch SET generation = generation + 1 WHERE id = 1";

/**
 * Another process writing the same SQLite file, as a second instance or the admin CLI would:
 * better-sqlite3 waits for locks synchronously, so the other writer cannot share this thread.
 * Resolves `attempting` just before it writes, `done` once it committed.
 */
function writeFromAnotherProcess(file: string): { attempting: Promise<void>; done: Promise<void> } {
  const script = `
    const Database = require(${JSON.stringify(require.resolve("better-sqlite3"))});
    const db = new Database(process.env.DB_FILE);
    db.pragma("busy_timeout = 5000");
    process.stdout.write("attempting\\n");
    db.prepare(${JSON.stringify(BUMP)}).run();
    db.close();`;
  const child = spawn(process.execPath, ["-e", script], { env: { ...process.env, DB_FILE: file }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const attempting = new Promise<void>((resolve) => child.stdout.on("data", (chunk) => String(chunk).includes("attempting") && resolve()));
  const done = new Promise<void>((resolve, reject) => child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`the other writer failed: ${stderr}`)))));
  return { attempting, done };
}

/**
 * Write transactions while another process writes the same database. Neither may fail because the
 * other committed first: on SQLite a deferred transaction that read before the other's commit could
 * not write after it (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not cover).
 */
describe("write transactions beside another process's writes", () => {
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

  test("a transaction reads, the other process writes, then the transaction writes: both writes are kept", async () => {
    const before = await generation();
    let other!: Promise<void>;
    await inTransaction(db.dataSource, async (manager) => {
      await manager.query("SELECT generation FROM revocation_epoch WHERE id = 1");
      if (db.kind === "sqlite") {
        const writer = writeFromAnotherProcess(String((db.dataSource.options as { database: string }).database));
        other = writer.done;
        await writer.attempting;
      } else {
        other = otherInstance.query(BUMP).then(() => undefined);
      }
      // Long enough for the other write to commit, had nothing held it back.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await manager.query(BUMP);
    });
    await other;
    expect(await generation()).toBe(before + 2n);
  });

  test("a failed transaction writes nothing and leaves the database to the next writer", async () => {
    const before = await generation();
    const failing = inTransaction(db.dataSource, async (manager) => {
      await manager.query(BUMP);
      throw new Error("the work failed");
    });
    await expect(failing).rejects.toThrow("the work failed");
    await inTransaction(otherInstance, (manager) => manager.query(BUMP));
    expect(await generation()).toBe(before + 1n);
  });
});

/**
 * A transaction InnoDB picks as a deadlock victim was rolled back whole: inTransaction runs it
 * again. Deadlocks cannot be made to order here; the work throws what the driver throws for one
 * (ER_LOCK_DEADLOCK, errno 1213, "Deadlock found...") after writing, so the rollback is real. The
 * database raising a real ER_LOCK_DEADLOCK from a trigger: shared-throttle.counters.test.ts.
 */
describe("a transaction picked as a deadlock victim", () => {
  let db: TestDatabase;
  const deadlock = () => Object.assign(new Error("Deadlock found when trying to get lock; try restarting transaction"), { code: "ER_LOCK_DEADLOCK", errno: 1213 });
  const generation = async () => BigInt(String((await db.dataSource.query("SELECT generation FROM revocation_epoch WHERE id = 1"))[0].generation));
  /** Work that bumps the generation, then fails as a deadlock victim on its first `victimTries` tries. */
  const bumping = (victimTries: number, error: () => Error = deadlock) => {
    const work = {
      tries: 0,
      run: async (manager: EntityManager) => {
        work.tries += 1;
        await manager.query(BUMP);
        if (work.tries <= victimTries) throw error();
        return work.tries;
      },
    };
    return work;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("is run again in a new transaction: after two deadlocks the third try commits, once", async () => {
    const before = await generation();
    const work = bumping(2);
    await expect(inTransaction(db.dataSource, work.run)).resolves.toBe(3);
    expect(await generation()).toBe(before + 1n);
  });

  test(`${DEADLOCK_TRIES} deadlocks in a row reach the caller, as 'unavailable' (503), and nothing is written`, async () => {
    const before = await generation();
    const work = bumping(DEADLOCK_TRIES);
    const failed = await inTransaction(db.dataSource, work.run).then(() => null, (error: unknown) => error);
    expect({ deadlock: isDeadlock(failed), unavailable: isDatabaseUnavailable(failed), tries: work.tries }).toEqual({ deadlock: true, unavailable: true, tries: DEADLOCK_TRIES });
    expect(await generation()).toBe(before);
  });

  test("any other error reaches the caller at once, untried again", async () => {
    const before = await generation();
    const work = bumping(1, () => Object.assign(new Error("Duplicate entry"), { code: "ER_DUP_ENTRY", errno: 1062 }));
    await expect(inTransaction(db.dataSource, work.run)).rejects.toThrow("Duplicate entry");
    expect({ tries: work.tries, generation: await generation() }).toEqual({ tries: 1, generation: before });
  });

  test("known by its code, its number or its message, also inside TypeORM's QueryFailedError", () => {
    expect([
      { code: "ER_LOCK_DEADLOCK" },
      { errno: 1213 },
      new Error("SQLITE_CONSTRAINT: Deadlock found when trying to get lock"),
      { message: "Query failed", driverError: { code: "ER_LOCK_DEADLOCK", errno: 1213 } },
    ].map(isDeadlock)).toEqual([true, true, true, true]);
    expect([{ code: "ER_LOCK_WAIT_TIMEOUT", errno: 1205 }, new Error("deadline"), null, "Deadlock found"].map(isDeadlock)).toEqual([false, false, false, false]);
  });
});
