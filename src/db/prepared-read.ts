import { type DataSource, QueryFailedError } from "typeorm";

export type Row = Record<string, unknown>;
/** One row (or none) of a fixed statement; prepared once, run with new parameters each time. */
export type PreparedRead = (...params: unknown[]) => Promise<Row | undefined>;

interface SqliteStatement {
  get(...params: unknown[]): Row | undefined;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}
interface MysqlPool {
  execute(sql: string, values: unknown[], callback: (error: Error | null, rows: Row[]) => void): void;
}

/**
 * A hot-path read prepared once per connection instead of going through TypeORM's query runner
 * (which allocates a runner, a broadcaster and a result object per call): better-sqlite3
 * `prepare` once and `get`; mysql2 `execute`, whose pool caches the server-side prepared
 * statement per connection. Any other driver falls back to `dataSource.query`. Each statement is
 * still reported to the DataSource's logger, as TypeORM's own are, so query logging and counting
 * (`countQueries`) see it, and a failure is a TypeORM QueryFailedError (driverError inside), as
 * from TypeORM's own statements: callers (isDatabaseUnavailable, the error masking) see one shape.
 * Outside transactions only: a transaction's reads go through its manager.
 */
export function createPreparedRead(dataSource: DataSource, sql: string, sqliteSql: string = sql): PreparedRead {
  const fallback: PreparedRead = async (...params) => ((await dataSource.query(sql, params)) as Row[])[0];
  const type = dataSource.options.type;

  if (type === "better-sqlite3") {
    let connection: SqliteDatabase | null = null;
    let statement: SqliteStatement | null = null;
    return async (...params) => {
      const current = (dataSource.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection;
      if (!current) return fallback(...params);
      dataSource.logger.logQuery(sqliteSql, params);
      try {
        if (current !== connection) {
          // A re-initialised DataSource has a new connection: prepare again on it.
          statement = current.prepare(sqliteSql);
          connection = current;
        }
        return statement!.get(...params);
      } catch (error) {
        throw new QueryFailedError(sqliteSql, params, error as Error);
      }
    };
  }

  if (type === "mysql" || type === "mariadb") {
    return (...params) => {
      const pool = (dataSource.driver as unknown as { pool?: MysqlPool }).pool;
      if (!pool) return fallback(...params);
      dataSource.logger.logQuery(sql, params);
      return new Promise((resolve, reject) => {
        pool.execute(sql, params, (error, rows) => (error ? reject(new QueryFailedError(sql, params, error)) : resolve(rows[0])));
      });
    };
  }

  return fallback;
}
