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
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type !== "better-sqlite3") return dataSource.transaction(work);
  const previous = sqliteWriteQueues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(() =>
    dataSource.transaction(async (manager) => {
      await manager.query(SQLITE_WRITE_LOCK);
      return work(manager);
    }),
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
