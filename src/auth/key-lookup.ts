import type { DataSource } from "typeorm";

export const KEY_LOOKUP_SQL = `SELECT k.id AS key_id, k.key_hash, k.expires_at, k.last_used_at, k.read_only, k.replaces_key_id,
  u.id AS user_id, u.email, u.is_admin, u.active, u.display_name, u.created_at AS user_created_at
  FROM api_keys k INNER JOIN users u ON u.id = k.owner_id
  WHERE k.key_hash = ?`;

/**
 * SQLite's variant binds the hash through CAST(? AS TEXT). better-sqlite3 is built with STAT4, and
 * once ANALYZE (or `PRAGMA optimize`) has filled sqlite_stat4, a bare `key_hash = ?` in a join
 * marks the statement for re-planning at every new binding: that cost about 12 µs of planning per
 * request, four times the lookup itself. The cast keeps the unique-index search (same plan, see
 * test/auth/key-lookup.test.ts) but gives the planner no bound value to re-plan on.
 */
export const SQLITE_KEY_LOOKUP_SQL = KEY_LOOKUP_SQL.replace("k.key_hash = ?", "k.key_hash = CAST(? AS TEXT)");

export type KeyRow = Record<string, unknown>;
export type KeyLookup = (hash: string) => Promise<KeyRow | undefined>;

interface SqliteStatement {
  get(...params: unknown[]): KeyRow | undefined;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}
interface MysqlPool {
  execute(sql: string, values: unknown[], callback: (error: Error | null, rows: KeyRow[]) => void): void;
}

/**
 * The hot path's one statement, prepared once per connection instead of going through TypeORM's
 * query runner (which allocates a runner, a broadcaster and a result object per call):
 * better-sqlite3 `prepare` once and `get`; mysql2 `execute`, whose pool caches the server-side
 * prepared statement per connection. Any other driver falls back to `dataSource.query`.
 * Each statement is still reported to the DataSource's logger, as TypeORM's own are, so query
 * logging and counting (`countQueries`) see it.
 */
export function createKeyLookup(dataSource: DataSource): KeyLookup {
  const fallback: KeyLookup = async (hash) => ((await dataSource.query(KEY_LOOKUP_SQL, [hash])) as KeyRow[])[0];
  const type = dataSource.options.type;

  if (type === "better-sqlite3") {
    let connection: SqliteDatabase | null = null;
    let statement: SqliteStatement | null = null;
    return async (hash) => {
      const current = (dataSource.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection;
      if (!current) return fallback(hash);
      if (current !== connection) {
        // A re-initialised DataSource has a new connection: prepare again on it.
        statement = current.prepare(SQLITE_KEY_LOOKUP_SQL);
        connection = current;
      }
      dataSource.logger.logQuery(SQLITE_KEY_LOOKUP_SQL, [hash]);
      return statement!.get(hash);
    };
  }

  if (type === "mysql" || type === "mariadb") {
    return (hash) => {
      const pool = (dataSource.driver as unknown as { pool?: MysqlPool }).pool;
      if (!pool) return fallback(hash);
      dataSource.logger.logQuery(KEY_LOOKUP_SQL, [hash]);
      return new Promise((resolve, reject) => {
        pool.execute(KEY_LOOKUP_SQL, [hash], (error, rows) => (error ? reject(error) : resolve(rows[0])));
      });
    };
  }

  return fallback;
}
