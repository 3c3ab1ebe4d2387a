import Database from "better-sqlite3";
import type { Logger } from "pino";
import type { DataSource, EntityManager } from "typeorm";
import { KeyCache, type KeyCacheOptions } from "./key-cache";

const GENERATION_SQL = "SELECT generation FROM revocation_epoch WHERE id = 1";
/** Timers fire late, never early; this covers a poll whose start was stamped a little before its statement ran. */
const SETTLE_MARGIN_MS = 25;

interface GenerationReader {
  read(): Promise<string>;
  close(): void;
}

/**
 * The revocation side of the key cache (src/keys/key-cache.ts): revoking writes bump the
 * generation in their transaction and, once committed, call settled(), which empties this
 * instance's cache and waits until every instance's cache has either seen the bump or gone stale.
 * Every instance (and the admin CLI) must run with the same KEY_CACHE_WINDOW_MS.
 */
export class RevocationEpoch {
  readonly cache: KeyCache;
  private reader: GenerationReader | null = null;

  constructor(
    private readonly dataSource: DataSource,
    options: KeyCacheOptions,
    private readonly logger: Logger,
  ) {
    this.cache = new KeyCache(options, () => this.readGeneration(), (error) => this.logger.warn({ err: error }, "could not poll the revocation generation; cached key lookups are not used until it works again"));
  }

  /** Inside the revoking transaction, so the bump commits or rolls back with the revocation. */
  async bump(manager: EntityManager): Promise<void> {
    await manager.query("UPDATE revocation_epoch SET generation = generation + 1 WHERE id = 1");
  }

  /** After the revoking transaction committed: forget here at once, then wait out the other instances' windows. */
  async settled(): Promise<void> {
    this.cache.clear();
    if (this.cache.enabled) await new Promise((resolve) => setTimeout(resolve, this.cache.options.windowMs + SETTLE_MARGIN_MS));
  }

  /** Starts polling (the server does; the CLI only bumps and waits). */
  start(): void {
    this.cache.start();
  }

  async stop(): Promise<void> {
    await this.cache.stop();
    this.reader?.close();
    this.reader = null;
  }

  private readGeneration(): Promise<string> {
    this.reader ??= createGenerationReader(this.dataSource);
    return this.reader.read();
  }
}

/**
 * Polls outside TypeORM: on SQLite through a connection of its own, so a poll never runs inside
 * another request's open transaction (whose snapshot could be older than the poll); on MySQL
 * straight on the pool (autocommit, so every poll reads the latest commit). Neither goes through
 * the DataSource's logger: polls are background statements, not part of any request.
 */
function createGenerationReader(dataSource: DataSource): GenerationReader {
  const type = dataSource.options.type;
  if (type === "better-sqlite3") {
    const file = String((dataSource.options as { database: string }).database);
    // One process owns an in-memory database: every revocation is local and clears the cache
    // directly, so the shared connection will do there.
    const own = file === ":memory:" ? null : new Database(file, { readonly: true, fileMustExist: true });
    own?.pragma("busy_timeout = 1000");
    const connection = own ?? (dataSource.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
    const statement = connection.prepare(GENERATION_SQL);
    return { read: async () => String((statement.get() as { generation: unknown }).generation), close: () => own?.close() };
  }
  const pool = (dataSource.driver as unknown as { pool?: { query(sql: string, callback: (error: Error | null, rows: Array<{ generation: unknown }>) => void): void } }).pool;
  if (!pool) throw new Error("the MySQL pool is not open");
  return {
    read: () => new Promise((resolve, reject) => pool.query(GENERATION_SQL, (error, rows) => (error ? reject(error) : resolve(String(rows[0]?.generation))))),
    close: () => {},
  };
}
