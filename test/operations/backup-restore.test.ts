/**
 * Backup and restore the way docs/operations.md tells an operator to: the database's own dump
 * tool, a new database, the real service started on it. The key_tag_secret row is part of every
 * key's identity: restore it, or every issued key stops working.
 */
import { execFile as execFileCallback } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { createDataSource } from "../../src/db/data-source";
import { startTestApp, type TestApp } from "../support/app";
import { startChildServer, type ChildServer } from "../support/child-server";
import { testDatabaseKind } from "../support/database";
import { findTool, runsWith } from "../support/tools";

const execFile = promisify(execFileCallback);
jest.setTimeout(240_000);

const kind = testDatabaseKind();
const TOOLS = kind === "mariadb" ? ["mariadb-dump", "mariadb"] : ["sqlite3"];
const runs = runsWith("test/operations/backup-restore.test.ts", TOOLS.filter((tool) => !findTool([[tool]])), `Debian: apt-get install -y ${kind === "mariadb" ? "mariadb-client" : "sqlite3"}`);

/** mariadb/mariadb-dump arguments for the test server of a mysql:// URL (root, empty password in the test setup). */
function clientArgs(url: URL): string[] {
  const args = ["--protocol=tcp", "-h", url.hostname, "-P", url.port || "3306", "-u", decodeURIComponent(url.username) || "root"];
  return url.password ? [...args, `-p${decodeURIComponent(url.password)}`] : args;
}

async function whoAmI(server: ChildServer, key: string): Promise<{ status: number; email?: string }> {
  const response = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Basic " + Buffer.from(`apikey:${key}`).toString("base64") },
    body: JSON.stringify({ query: "{ me { email } }" }),
  });
  const body = (await response.json()) as { data?: { me?: { email?: string } } };
  return { status: response.status, email: body.data?.me?.email };
}

(runs ? describe : describe.skip)(`backup and restore (${kind})`, () => {
  let app: TestApp;
  let dir: string;
  let key: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    app = await startTestApp();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xta-backup-"));
    const user = await app.createUser("backed-up@example.org");
    await app.setKeysEnabled(true);
    ({ key } = await app.generateKey(user, { description: "survives a restore" }));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await app?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const serve = async (databaseUrl: string): Promise<ChildServer> => {
    const server = await startChildServer({ DATABASE_URL: databaseUrl, ADMIN_EMAIL: "admin@example.org", ADMIN_PASSWORD: "restore-test-admin-pw" });
    cleanups.push(async () => void (await server.stop()));
    return server;
  };

  if (kind === "mariadb") {
    const source = () => new URL(app.db.url);
    const createDatabase = async (): Promise<URL> => {
      const url = source();
      const name = `xta_restore_${randomBytes(4).toString("hex")}`;
      const connection = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username) || "root", password: decodeURIComponent(url.password) });
      await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await connection.end();
      cleanups.push(async () => {
        const drop = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username) || "root", password: decodeURIComponent(url.password) });
        await drop.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await drop.end();
      });
      url.pathname = `/${name}`;
      return url;
    };
    const dump = async (file: string, extra: string[] = []): Promise<void> => {
      const url = source();
      const { stdout } = await execFile("mariadb-dump", [...clientArgs(url), "--single-transaction", "--no-tablespaces", ...extra, url.pathname.slice(1)], { maxBuffer: 64 * 1024 * 1024 });
      fs.writeFileSync(file, stdout);
    };
    const restore = async (file: string, into: URL): Promise<void> => {
      await execFile("sh", ["-c", `exec mariadb "$@" < "${file}"`, "mariadb", ...clientArgs(into), into.pathname.slice(1)]);
    };

    test("mariadb-dump, restore into a new database, start the service on it: the old key still authenticates", async () => {
      const file = path.join(dir, "full.sql");
      await dump(file);
      expect(fs.readFileSync(file, "utf8")).toMatch(/INSERT INTO `key_tag_secret`/);
      const restored = await createDatabase();
      await restore(file, restored);
      const server = await serve(restored.toString());
      await expect(whoAmI(server, key)).resolves.toEqual({ status: 200, email: "backed-up@example.org" });
      expect(server.output()).not.toContain(key);
    });

    test("a restore without the key_tag_secret row (into a database the service set up anew): every old key is refused", async () => {
      const file = path.join(dir, "without-secret.sql");
      await dump(file, [`--ignore-table=${source().pathname.slice(1)}.key_tag_secret`]);
      expect(fs.readFileSync(file, "utf8")).not.toMatch(/key_tag_secret/);
      const restored = await createDatabase();
      // The new database was migrated first, as a service started on it would: it drew a new secret.
      const fresh = createDataSource({ kind: "mysql", url: restored.toString(), host: restored.hostname, port: Number(restored.port || 3306), user: decodeURIComponent(restored.username) || "root", password: decodeURIComponent(restored.password), database: restored.pathname.slice(1) });
      await fresh.initialize();
      await fresh.runMigrations({ transaction: "each" });
      await fresh.destroy();
      await restore(file, restored);
      const server = await serve(restored.toString());
      await expect(whoAmI(server, key)).resolves.toEqual({ status: 401, email: undefined });
    });
  } else {
    test("sqlite3 .backup while the service runs, start the service on the copy: the old key still authenticates", async () => {
      const copy = path.join(dir, "restored.sqlite");
      const sourceFile = app.db.url.replace(/^sqlite:/, "");
      await execFile("sqlite3", [sourceFile, `.backup '${copy}'`]);
      const server = await serve(`sqlite:${copy}`);
      await expect(whoAmI(server, key)).resolves.toEqual({ status: 200, email: "backed-up@example.org" });
    });
  }
});
