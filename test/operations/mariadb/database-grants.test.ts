/**
 * deploy/create-database.sql, run by the real mariadb client: a user with exactly those grants
 * can run every migration up and down and take a backup with mariadb-dump. (MariaDB only: SQLite
 * has no users.)
 */
import { execFile as execFileCallback } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { createDataSource } from "../../../src/db/data-source";
import { DEFAULT_TEST_MYSQL_URL } from "../../support/database";
import { findTool, runsWith } from "../../support/tools";

const execFile = promisify(execFileCallback);
const ROOT = path.resolve(__dirname, "..", "..", "..");
jest.setTimeout(180_000);

const runs = runsWith("test/operations/mariadb/database-grants.test.ts", ["mariadb", "mariadb-dump"].filter((tool) => !findTool([[tool]])), "Debian: apt-get install -y mariadb-client");

(runs ? describe : describe.skip)("deploy/create-database.sql", () => {
  const server = new URL(process.env.TEST_MYSQL_URL ?? DEFAULT_TEST_MYSQL_URL);
  const suffix = randomBytes(4).toString("hex");
  const database = `xta_grants_${suffix}`;
  const user = `xta_grants_${suffix}`;
  const password = randomBytes(12).toString("hex");
  const rootArgs = ["--protocol=tcp", "-h", server.hostname, "-P", server.port || "3306", "-u", decodeURIComponent(server.username) || "root", ...(server.password ? [`-p${decodeURIComponent(server.password)}`] : [])];
  const asAdmin = async (sql: string) => {
    const connection = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username) || "root", password: decodeURIComponent(server.password) });
    try {
      return await connection.query(sql);
    } finally {
      await connection.end();
    }
  };

  afterAll(async () => {
    await asAdmin(`DROP DATABASE IF EXISTS \`${database}\``);
    await asAdmin(`DROP USER IF EXISTS '${user}'@'%'`);
  });

  test("its user can migrate up and down and dump the database, and holds no other grant", async () => {
    const script = fs
      .readFileSync(path.join(ROOT, "deploy", "create-database.sql"), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("--"))
      .join("\n")
      .replace(/\bapikeys\b/g, (match, offset: number, text: string) => (text.slice(0, offset).endsWith("'") ? user : database))
      .replaceAll("REPLACE_WITH_A_PASSWORD", password);
    expect(script).toContain(`'${user}'@'%' IDENTIFIED BY '${password}'`);
    await execFile("sh", ["-c", 'printf "%s" "$SCRIPT" | exec mariadb "$@"', "mariadb", ...rootArgs], { env: { ...process.env, SCRIPT: script } });

    const dataSource = createDataSource({ kind: "mysql", url: `mysql://${user}:${password}@${server.hostname}:${server.port || 3306}/${database}`, host: server.hostname, port: Number(server.port || 3306), user, password, database });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: "each" });
      expect(applied.length).toBe(dataSource.migrations.length);
      for (let i = 0; i < applied.length; i++) await dataSource.undoLastMigration({ transaction: "each" });
      expect(Number((await dataSource.query("SELECT COUNT(*) AS n FROM migrations"))[0].n)).toBe(0);
      await dataSource.runMigrations({ transaction: "each" });
    } finally {
      await dataSource.destroy();
    }

    const { stdout } = await execFile("mariadb-dump", ["--protocol=tcp", "-h", server.hostname, "-P", server.port || "3306", "-u", user, `-p${password}`, "--single-transaction", "--no-tablespaces", database], { maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toMatch(/INSERT INTO `key_tag_secret`/);

    const [grants] = (await asAdmin(`SHOW GRANTS FOR '${user}'@'%'`)) as unknown as [Array<Record<string, string>>];
    const onDatabase = grants.map((row) => Object.values(row)[0]).filter((grant) => !/^GRANT USAGE ON \*\.\*/.test(grant));
    expect(onDatabase).toEqual([`GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER ON \`${database}\`.* TO \`${user}\`@\`%\``]);
  });
});
