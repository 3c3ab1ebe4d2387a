import type { DataSource, EntityManager } from "typeorm";

/**
 * A statement that changes nothing but makes SQLite take the database's write lock, as
 * `BEGIN IMMEDIATE` would (TypeORM always sends a plain, deferred `BEGIN`).
 */
export const SQLITE_WRITE_LOCK = "UPDATE revocation_epoch SET generation = generation WHERE 0";

/**
 * Runs `work` in a transaction that no other write can join.
 *
 * MySQL hands each transaction its own pooled connection. TypeORM's better-sqlite3 driver has a
 * single connection, so two overlapping `dataSource.transaction()` calls would nest as savepoints
 * of one transaction, and a rollback of either would silently undo the other's writes. On SQLite
 * every write therefore queues here, one transaction at a time (SQLite allows one writer anyway).
 *
 * On SQLite the transaction also takes the write lock before `work` reads anything. A deferred
 * transaction that reads first and writes later fails at once with SQLITE_BUSY_SNAPSHOT when
 * another process (a second instance, the admin CLI) committed in between: busy_timeout does not
 * apply there. Taken first, the lock waits for the other writer (up to busy_timeout) instead.
 *
 * `work` may run more than once: a transaction picked as a deadlock victim runs again from the
 * start (see retryingDeadlocks), so `work` keeps its effects inside the transaction, or makes them
 * again from the start.
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type !== "better-sqlite3") return retryingDeadlocks(() => dataSource.transaction(work));
  const previous = sqliteWriteQueues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(() =>
    retryingDeadlocks(() =>
      dataSource.transaction(async (manager) => {
        await manager.query(SQLITE_WRITE_LOCK);
        return work(manager);
      }),
    ),
  );
  // The queue continues whether this transaction commits or fails.
  sqliteWriteQueues.set(
    dataSource,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );
  return run;
}

const sqliteWriteQueues = new WeakMap<DataSource, Promise<void>>();

/** Tries of a transaction InnoDB picks as a deadlock victim, the first included. */
export const DEADLOCK_TRIES = 3;

/**
 * InnoDB ends one of two transactions that wait for each other's locks and rolls it back whole
 * ("try restarting transaction"): nothing of it was written, so it runs again, in a new
 * transaction, after a short random pause that keeps the two from meeting again in step.
 * After DEADLOCK_TRIES the error reaches the caller (503: see database-faults.ts).
 */
async function retryingDeadlocks<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= DEADLOCK_TRIES || !isDeadlock(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

/**
 * MySQL's deadlock (ER_LOCK_DEADLOCK, 1213), by its code or number, on the error or the driver's
 * error TypeORM wraps. By its message too: SQLite never deadlocks, and the tests that make one on
 * SQLite can raise only a message.
 */
export function isDeadlock(error: unknown): boolean {
  const candidate = error as { code?: unknown; errno?: unknown; message?: unknown; driverError?: { code?: unknown; errno?: unknown } } | null;
  if (!candidate || typeof candidate !== "object") return false;
  const codes = [candidate.code, candidate.errno, candidate.driverError?.code, candidate.driverError?.errno];
  return codes.includes("ER_LOCK_DEADLOCK") || codes.includes(1213) || (typeof candidate.message === "string" && candidate.message.includes("Deadlock found"));
}
