import { spawn } from "node:child_process";
import type { DataSource } from "typeorm";
import { inTransaction } from "../../src/db/transactions";
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
