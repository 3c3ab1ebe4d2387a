import fs from "node:fs";
import path from "node:path";
import { DataSource, DataSourceOptions } from "typeorm";
import type { DatabaseConfig } from "../config";
import { ApiKey } from "../entities/api-key.entity";
import { ExternalToolSettings } from "../entities/external-tool-settings.entity";
import { User } from "../entities/user.entity";
import { InitialSchema1764237600000 } from "../migrations/1764237600000-initial-schema";
import { AuditAndRotation1764300000000 } from "../migrations/1764300000000-audit-and-rotation";
import { ExpiredKeyRetention1764320000000 } from "../migrations/1764320000000-expired-key-retention";
import { AuditEvent } from "../entities/audit-event.entity";
import { RevocationEpoch1764400000000 } from "../migrations/1764400000000-revocation-epoch";
import { KeyTags1764500000000 } from "../migrations/1764500000000-key-tags";
import { CanonicalEmails1764600000000 } from "../migrations/1764600000000-canonical-emails";
import { AuthAttempts1764610000000 } from "../migrations/1764610000000-auth-attempts";
import { RotationSuccessor1764700000000 } from "../migrations/1764700000000-rotation-successor";
import { KeyedIdempotencyLookup1764710000000 } from "../migrations/1764710000000-keyed-idempotency-lookup";
import { Accounts1764800000000 } from "../migrations/1764800000000-accounts";
import { Sessions1764900000000 } from "../migrations/1764900000000-sessions";
import { ListIndexes1765050000000 } from "../migrations/1765050000000-list-indexes";
import { Session, SessionKey } from "../entities/session.entity";

export const ENTITIES = [User, ApiKey, ExternalToolSettings, AuditEvent, Session, SessionKey];
export const MIGRATIONS = [
  InitialSchema1764237600000,
  AuditAndRotation1764300000000,
  ExpiredKeyRetention1764320000000,
  RevocationEpoch1764400000000,
  KeyTags1764500000000,
  CanonicalEmails1764600000000,
  AuthAttempts1764610000000,
  RotationSuccessor1764700000000,
  KeyedIdempotencyLookup1764710000000,
  Accounts1764800000000,
  Sessions1764900000000,
  ListIndexes1765050000000,
];

export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = { entities: ENTITIES, migrations: MIGRATIONS, synchronize: false, migrationsRun: false, logging: false } as const;
  if (database.kind === "sqlite") {
    if (database.path !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(database.path)), { recursive: true });
    return {
      ...common,
      type: "better-sqlite3",
      database: database.path,
      enableWAL: database.path !== ":memory:",
      // Concurrent writers (a CLI beside the server) wait instead of failing with SQLITE_BUSY.
      prepareDatabase: (db: { pragma(statement: string): unknown }) => {
        db.pragma("busy_timeout = 5000");
      },
    };
  }
  return {
    ...common,
    type: "mysql",
    host: database.host,
    port: database.port,
    username: database.user,
    password: database.password,
    database: database.database,
    // Every DATETIME is UTC on the wire; the server's own time zone never matters.
    timezone: "Z",
    charset: "utf8mb4_unicode_ci",
    connectTimeout: database.connectTimeoutMs ?? 5000,
    extra: { connectionLimit: 10, enableKeepAlive: true },
  };
}

export function createDataSource(database: DatabaseConfig): DataSource {
  return new DataSource(dataSourceOptions(database));
}

/** Dates as both drivers compare them in raw SQL: UTC `YYYY-MM-DD HH:MM:SS.mmm`. */
export function toSqlDateTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/** SQLite hands back the stored UTC text; mysql2 hands back a Date. */
export function fromSqlDateTime(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(text.includes("T") ? text : text.replace(" ", "T") + "Z");
}

export function fromSqlBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === "1";
}
