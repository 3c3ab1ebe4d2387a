import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import type { DataSource } from "typeorm";
import type { DatabaseConfig } from "../../src/config";
import { createDataSource } from "../../src/db/data-source";

export const DEFAULT_TEST_MYSQL_URL = "mysql://root@127.0.0.1:3306/test";

export interface TestDatabase {
  kind: "sqlite" | "mariadb";
  config: DatabaseConfig;
  /** What DATABASE_URL would be for a child process using this database. */
  url: string;
  dataSource: DataSource;
  /** Empties every table and restores the default settings. */
  reset(): Promise<void>;
  /**
   * A DataSource of its own on this database, as another instance (another process) would have:
   * its own connections, its own pool. destroy() closes it.
   */
  openAnotherInstance(): Promise<DataSource>;
  /** Closes every DataSource on this database and drops it. */
  destroy(): Promise<void>;
}

export function testDatabaseKind(): "sqlite" | "mariadb" {
  return process.env.TEST_DB === "mariadb" ? "mariadb" : "sqlite";
}

/** A fresh database per test file, migrated the way production is: test files never share state. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const kind = testDatabaseKind();
  const suffix = `${process.pid}_${randomBytes(4).toString("hex")}`;
  let config: DatabaseConfig;
  let url: string;
  let dropDatabase: () => Promise<void>;

  if (kind === "sqlite") {
    const file = path.join(os.tmpdir(), `xta-test-${suffix}.sqlite`);
    config = { kind: "sqlite", path: file };
    url = `sqlite:${file}`;
    dropDatabase = async () => {
      for (const extension of ["", "-wal", "-shm"]) fs.rmSync(file + extension, { force: true });
    };
  } else {
    const server = new URL(process.env.TEST_MYSQL_URL ?? DEFAULT_TEST_MYSQL_URL);
    const name = `xta_test_${suffix}`;
    const admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username) || "root", password: decodeURIComponent(server.password) });
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    server.pathname = `/${name}`;
    url = server.toString();
    config = { kind: "mysql", url, host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username) || "root", password: decodeURIComponent(server.password), database: name };
    dropDatabase = async () => {
      const connection = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username) || "root", password: decodeURIComponent(server.password) });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    };
  }

  const dataSource = createDataSource(config);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  const otherInstances: DataSource[] = [];

  return {
    kind,
    config,
    url,
    dataSource,
    async reset() {
      await dataSource.query("DELETE FROM audit_events");
      await dataSource.query("DELETE FROM idempotent_results");
      await dataSource.query("DELETE FROM api_keys");
      await dataSource.query("DELETE FROM users");
      await dataSource.query("UPDATE external_tool_settings SET api_keys_enabled = 0, api_key_expiration = 'NEVER', session_keys_enabled = 0, expired_key_retention_days = 30 WHERE id = 1");
    },
    async openAnotherInstance() {
      const other = createDataSource(config);
      await other.initialize();
      otherInstances.push(other);
      return other;
    },
    async destroy() {
      for (const other of otherInstances) if (other.isInitialized) await other.destroy();
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropDatabase();
    },
  };
}
