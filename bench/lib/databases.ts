import "reflect-metadata";
import Database from "better-sqlite3";
import bcrypt from "bcrypt";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { generateApiKey, type GeneratedKey } from "../../src/keys/api-key-format";
import { readTagSecret } from "../../src/keys/key-tags";
import type { DatabaseConfig } from "../../src/config";
import { createDataSource, toSqlDateTime } from "../../src/db/data-source";

export type DbKind = "sqlite" | "mariadb";

export interface BenchDatabase {
  kind: DbKind;
  config: DatabaseConfig;
  /** DATABASE_URL for a child server. */
  url: string;
  /** A key as this database's server would issue it (its tag secret), not stored. */
  issueKey(): GeneratedKey;
  drop(): Promise<void>;
}

const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/";

/** A new, migrated, empty database (the migrations production runs). */
export async function createBenchDatabase(kind: DbKind, label: string): Promise<BenchDatabase> {
  let db: Omit<BenchDatabase, "issueKey">;
  const suffix = `${label}_${process.pid}_${randomBytes(3).toString("hex")}`;
  if (kind === "sqlite") {
    const file = path.join(os.tmpdir(), `xta-bench-${suffix}.sqlite`);
    db = {
      kind,
      config: { kind: "sqlite", path: file },
      url: `sqlite:${file}`,
      async drop() {
        for (const extension of ["", "-wal", "-shm"]) fs.rmSync(file + extension, { force: true });
      },
    };
  } else {
    const server = new URL(MYSQL_URL);
    const name = `xta_bench_${suffix}`;
    const admin = await adminConnection(server);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    const url = new URL(server.toString());
    url.pathname = `/${name}`;
    db = {
      kind,
      config: { kind: "mysql", url: url.toString(), host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username) || "root", password: decodeURIComponent(server.password), database: name },
      url: url.toString(),
      async drop() {
        const connection = await adminConnection(server);
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await connection.end();
      },
    };
  }
  const dataSource = createDataSource(db.config);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  const tagSecret = await readTagSecret(dataSource);
  await dataSource.destroy();
  return { ...db, issueKey: () => generateApiKey(tagSecret) };
}

/** A well-formed key with a valid checksum that no server issued: what an attacker can make. */
export function madeUpKey(): string {
  return generateApiKey(randomBytes(32)).key;
}

function adminConnection(server: URL) {
  return mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username) || "root", password: decodeURIComponent(server.password) });
}

export interface SeedSpec {
  users: number;
  /** Real keys (SHA-256 of generated keys) the load draws from, spread over the users. */
  realKeys: number;
  /** Total rows in api_keys, the rest being filler rows with random hashes. */
  totalKeys: number;
  /** The password every seeded user has (hashed once with bcrypt at `bcryptCost`). */
  password: string;
  bcryptCost: number;
}

export interface Seeded {
  /** user emails, index 0 is the admin */
  emails: string[];
  keys: string[];
  /** A key of the admin user (also counted in totalKeys). */
  adminKey: string;
  /** For a cursor deep in the created_at DESC chain. */
  rowAt(index: number): { id: number; createdAt: Date };
  seedMs: number;
}

const BASE_TIME = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Expiries and last uses are set around the time of seeding, so some keys are expired now. */
const SEED_NOW = Math.floor(Date.now() / HOUR) * HOUR;
const createdAtOf = (id: number) => new Date(BASE_TIME + id * 1000);

/** Users, the settings row and keys, in bulk multi-row INSERTs (never the ORM per row). */
export async function seed(db: BenchDatabase, spec: SeedSpec): Promise<Seeded> {
  const started = Date.now();
  const passwordHash = bcrypt.hashSync(spec.password, spec.bcryptCost);
  const emails = Array.from({ length: spec.users }, (_, i) => (i === 0 ? "admin@bench.local" : `user${i}@bench.local`));
  const userRows = emails.map((email, i) => [i + 1, email, null, passwordHash, i === 0 ? 1 : 0, 1, toSqlDateTime(new Date(BASE_TIME))]);
  const admin = db.issueKey();
  const real = Array.from({ length: spec.realKeys }, () => db.issueKey());
  const writer = await openWriter(db);
  try {
    await writer.run("UPDATE external_tool_settings SET api_keys_enabled = 1 WHERE id = 1");
    await writer.insert("users", ["id", "email", "display_name", "password_hash", "is_admin", "active", "created_at"], userRows);
    await insertKeys(writer, spec.users, [admin.hash, ...real.map((k) => k.hash)], spec.totalKeys, 1);
  } finally {
    await writer.close();
  }
  return { emails, keys: real.map((k) => k.key), adminKey: admin.key, rowAt: (index) => ({ id: index + 1, createdAt: createdAtOf(index + 1) }), seedMs: Date.now() - started };
}

/** Adds `total` keys (the given real hashes first, random filler after) with ids from `firstId`; returns the admin key. */
export async function seedKeysOnly(db: BenchDatabase, users: number, total: number, firstId: number): Promise<{ adminKey: string; ms: number }> {
  const started = Date.now();
  const admin = db.issueKey();
  const writer = await openWriter(db);
  try {
    await insertKeys(writer, users, [admin.hash], total, firstId);
  } finally {
    await writer.close();
  }
  return { adminKey: admin.key, ms: Date.now() - started };
}

async function insertKeys(writer: Writer, users: number, realHashes: string[], total: number, firstId: number): Promise<void> {
  const columns = ["id", "owner_id", "key_hash", "hint", "description", "created_at", "expires_at", "last_used_at", "read_only"];
  const batchSize = writer.batchSize;
  for (let start = 0; start < total; start += batchSize) {
    const count = Math.min(batchSize, total - start);
    const filler = randomBytes(32 * count).toString("hex");
    const rows: unknown[][] = [];
    for (let j = 0; j < count; j++) {
      const index = start + j;
      const id = firstId + index;
      const hash = index < realHashes.length ? realHashes[index] : filler.slice(j * 64, j * 64 + 64);
      // Key 0 belongs to the admin (user 1); the rest are spread over all users.
      const owner = index === 0 ? 1 : (index % users) + 1;
      // Filler keys as a grid meets them: half never used, a third never expiring, about one in
      // ten expired (within the retention, so the purge job leaves them), ties on every column.
      // The keys the load uses stay unexpired.
      const real = index < realHashes.length;
      const spread = (index * 7919) % 1000;
      const lastUsedAt = real || index % 2 === 0 ? null : toSqlDateTime(new Date(SEED_NOW - (spread % 300) * HOUR));
      const expiresAt = real || index % 3 === 0 ? null : toSqlDateTime(new Date(SEED_NOW + (Math.floor(spread / 5) - 20) * DAY));
      rows.push([id, owner, hash, "xta_" + hash.slice(0, 4) + "…", index % 10 === 0 ? `bench key ${index}` : null, toSqlDateTime(createdAtOf(id)), expiresAt, lastUsedAt, 0]);
    }
    await writer.insert("api_keys", columns, rows);
  }
}

interface Writer {
  batchSize: number;
  run(sql: string): Promise<void>;
  insert(table: string, columns: string[], rows: unknown[][]): Promise<void>;
  close(): Promise<void>;
}

async function openWriter(db: BenchDatabase): Promise<Writer> {
  if (db.config.kind === "sqlite") {
    const sqlite = new Database(db.config.path);
    sqlite.pragma("journal_mode = OFF"); // seeding only; the server opens it in WAL mode
    sqlite.pragma("synchronous = OFF");
    sqlite.pragma("cache_size = -262144");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.exec("BEGIN"); // SQLite: one transaction for the whole seed
    const statements = new Map<string, Database.Statement>();
    return {
      batchSize: 500,
      async run(sql) {
        sqlite.exec(sql);
      },
      async insert(table, columns, rows) {
        const cacheKey = `${table}:${rows.length}`;
        let statement = statements.get(cacheKey);
        if (!statement) {
          const tuple = `(${columns.map(() => "?").join(", ")})`;
          statement = sqlite.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${rows.map(() => tuple).join(", ")}`);
          statements.set(cacheKey, statement);
        }
        statement.run(rows.flat() as unknown[]);
      },
      async close() {
        sqlite.exec("COMMIT");
        sqlite.pragma("journal_mode = WAL");
        sqlite.exec("ANALYZE");
        sqlite.close();
      },
    };
  }
  const config = db.config;
  const connection = await mysql.createConnection({ host: config.host, port: config.port, user: config.user, password: config.password, database: config.database, timezone: "Z" });
  await connection.query("SET foreign_key_checks = 0, unique_checks = 0");
  return {
    batchSize: 5000, // MariaDB: one transaction per batch of a few thousand rows
    async run(sql) {
      await connection.query(sql);
    },
    async insert(table, columns, rows) {
      await connection.query("START TRANSACTION");
      await connection.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ?`, [rows]);
      await connection.query("COMMIT");
    },
    async close() {
      await connection.query("SET foreign_key_checks = 1, unique_checks = 1");
      await connection.query("ANALYZE TABLE api_keys, users");
      await connection.end();
    },
  };
}

/** The peer design's own table: `<id>.<secret>` keys, bcrypt (cost 10) of the secret stored. */
export async function seedNaiveKeys(db: BenchDatabase, count: number, users: number): Promise<string[]> {
  const secrets = Array.from({ length: count }, () => randomBytes(32).toString("base64url"));
  const hashes = await Promise.all(secrets.map((secret) => bcrypt.hash(secret, 10)));
  const rows = secrets.map((_, i) => [i + 1, (i % users) + 1, hashes[i]]);
  const ddl = "CREATE TABLE naive_api_keys (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, secret_hash VARCHAR(60) NOT NULL)";
  if (db.config.kind === "sqlite") {
    const sqlite = new Database(db.config.path);
    sqlite.pragma("busy_timeout = 5000");
    sqlite.exec(ddl);
    const insert = sqlite.prepare("INSERT INTO naive_api_keys (id, user_id, secret_hash) VALUES (?, ?, ?)");
    sqlite.transaction(() => rows.forEach((row) => insert.run(row)))();
    sqlite.close();
  } else {
    const c = db.config;
    const connection = await mysql.createConnection({ host: c.host, port: c.port, user: c.user, password: c.password, database: c.database });
    await connection.query(ddl);
    await connection.query("INSERT INTO naive_api_keys (id, user_id, secret_hash) VALUES ?", [rows]);
    await connection.end();
  }
  return secrets.map((secret, i) => `${i + 1}.${secret}`);
}
