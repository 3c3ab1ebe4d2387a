import type { DataSource } from "typeorm";
import { createPreparedRead, type Row } from "../db/prepared-read";

export const KEY_LOOKUP_SQL = `SELECT k.id AS key_id, k.key_hash, k.expires_at, k.last_used_at, k.read_only, k.replaces_key_id,
  u.id AS user_id, u.email, u.is_admin, u.active, u.display_name, u.created_at AS user_created_at
  FROM api_keys k INNER JOIN users u ON u.id = k.owner_id
  WHERE k.key_hash = ?`;

/**
 * SQLite's variant binds the hash through CAST(? AS TEXT). better-sqlite3 is built with STAT4, and
 * once ANALYZE (or `PRAGMA optimize`) has filled sqlite_stat4, a bare `key_hash = ?` in a join
 * marks the statement for re-planning at every new binding: that cost about 12 µs of planning per
 * request, four times the lookup itself. The cast keeps the unique-index search (same plan, see
 * test/keys/key-lookup.test.ts) but gives the planner no bound value to re-plan on.
 */
export const SQLITE_KEY_LOOKUP_SQL = KEY_LOOKUP_SQL.replace("k.key_hash = ?", "k.key_hash = CAST(? AS TEXT)");

export type KeyRow = Row;
export type KeyLookup = (hash: string) => Promise<KeyRow | undefined>;

/** The key-authentication statement, prepared (src/db/prepared-read.ts). */
export function createKeyLookup(dataSource: DataSource): KeyLookup {
  const read = createPreparedRead(dataSource, KEY_LOOKUP_SQL, SQLITE_KEY_LOOKUP_SQL);
  return (hash) => read(hash);
}
