import type { DataSource, EntityManager } from "typeorm";

/**
 * Runs `work` in a transaction that no other write can join.
 *
 * MySQL hands each transaction its own pooled connection. TypeORM's better-sqlite3 driver has a
 * single connection, so two overlapping `dataSource.transaction()` calls would nest as savepoints
 * of one transaction, and a rollback of either would silently undo the other's writes. On SQLite
 * every write therefore queues here, one transaction at a time (SQLite allows one writer anyway).
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type !== "better-sqlite3") return dataSource.transaction(work);
  const previous = sqliteWriteQueues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(() => dataSource.transaction(work));
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
