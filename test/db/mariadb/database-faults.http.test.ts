import { createHash } from "node:crypto";
import "reflect-metadata";
import mysql from "mysql2/promise";
import type { DataSource } from "typeorm";
import { loadConfig } from "../../../src/config";
import { createDataSource } from "../../../src/db/data-source";
import { createLogger } from "../../../src/observability/logger";
import { createRuntime, type Runtime } from "../../../src/runtime";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { captureLogs } from "../../support/logs";
import { TcpProxy } from "../../support/tcp-proxy";

/**
 * The app talks to MariaDB through a TCP proxy this file owns: cutting it is a database outage
 * for this app only (other test files keep using the shared MariaDB server).
 */
describe("database faults (MariaDB behind a proxy we can cut)", () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let appDataSource: DataSource;
  let runtime: Runtime;
  let base: string;
  const { lines: logLines, stream: logSink } = captureLogs();
  const adminEmail = "admin@example.org";
  const adminPassword = "admin-Secret-password";
  let adminAuth: string;

  const post = async (query: string, authorization?: string, variables?: Record<string, unknown>) => {
    const started = Date.now();
    const response = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as any, ms: Date.now() - started };
  };
  const keyAuth = (key: string) => "Basic " + Buffer.from(`apikey:${key}`).toString("base64");
  const generate = async (description: string) => {
    const result = await post(`mutation { generateApiKey(description: "${description}") { key apiKey { id } } }`, adminAuth);
    expect(result.status).toBe(200);
    return { key: result.body.data.generateApiKey.key as string, id: Number(result.body.data.generateApiKey.apiKey.id) };
  };
  const waitForReady = async () => {
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("not ready again within 10 s");
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    if (db.config.kind !== "mysql") throw new Error("MariaDB only");
    proxy = await TcpProxy.start(db.config.host, db.config.port);
    const config = loadConfig({ LOG_LEVEL: "info", LAST_USED_FLUSH_INTERVAL_MS: "3600000", DB_CONNECT_TIMEOUT_MS: "1000" });
    appDataSource = createDataSource({ ...db.config, host: "127.0.0.1", port: proxy.port, connectTimeoutMs: 1000 });
    await appDataSource.initialize();
    const logger = createLogger("info", logSink);
    runtime = await createRuntime(config, { dataSource: appDataSource, logger, bcryptCost: 4 });
    const { services } = runtime;
    await services.users.create({ email: adminEmail, password: adminPassword, isAdmin: true });
    await services.settings.update({ apiKeysEnabled: true });
    adminAuth = "Basic " + Buffer.from(`${adminEmail}:${adminPassword}`).toString("base64");
    base = `http://127.0.0.1:${(await (await runtime.serve()).listen(0, "127.0.0.1")).port}`;
  });
  afterEach(async () => {
    // Whatever a test did, the database is reachable again for the next one.
    await proxy.restore();
    await waitForReady();
  });
  afterAll(async () => {
    await runtime.stop();
    await appDataSource.destroy();
    await proxy.close();
    await db.destroy();
    expect(logLines.join("")).not.toContain(adminPassword);
  });

  test("database unreachable: fast 503 SERVICE_UNAVAILABLE, /readyz 503, process up; back without restart, old keys work", async () => {
    const before = await Promise.all([generate("before 1"), generate("before 2"), generate("before 3")]);
    await proxy.cut();

    const byKey = await post("{ me { email } }", keyAuth(before[0].key));
    expect(byKey.status).toBe(503);
    expect(byKey.body.errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
    expect(byKey.ms).toBeLessThan(5000); // fails fast: no hang until a socket timeout
    const byPassword = await post("{ me { email } }", adminAuth);
    expect(byPassword.status).toBe(503);
    const anonymous = await post("{ externalToolSettings { apiKeysEnabled } }");
    expect(anonymous.status).toBe(503);
    expect(anonymous.body.errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
    expect(JSON.stringify([byKey.body, byPassword.body, anonymous.body])).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|mysql|stack/i);
    // The driver's error is logged without its statement or parameters (the key's SHA-256).
    const unavailableLines = logLines.filter((line) => line.includes("database unavailable"));
    expect(unavailableLines.length).toBeGreaterThan(0);
    const keyHash = createHash("sha256").update(before[0].key).digest("hex");
    for (const line of unavailableLines) expect(line).not.toMatch(new RegExp(`${keyHash}|SELECT |"(query|sql)":"[^[]|"parameters":\\[`));

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    await expect(ready.json()).resolves.toMatchObject({ status: "unavailable" });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await proxy.restore();
    await waitForReady();
    for (const { key } of before) {
      const result = await post("{ me { email } }", keyAuth(key));
      expect(result.status).toBe(200);
      expect(result.body.data.me.email).toBe(adminEmail);
    }
    const after = await generate("after the outage");
    expect((await post("{ me { email } }", keyAuth(after.key))).status).toBe(200);
  });

  test("connection dropped in the middle of revokeApiKeys: nothing revoked (no partial state)", async () => {
    const first = await generate("first batch");
    const blocked = await generate("second batch, row locked");
    // 501 ids: two DELETE statements in one transaction; the second waits on a row we lock.
    const ids = [String(first.id), ...Array.from({ length: 499 }, (_, i) => String(1_000_000 + i)), String(blocked.id)];
    if (db.config.kind !== "mysql") throw new Error("MariaDB only");
    const holder = await mysql.createConnection({ host: db.config.host, port: db.config.port, user: db.config.user, password: db.config.password, database: db.config.database });
    try {
      await holder.query("START TRANSACTION");
      await holder.query("SELECT id FROM api_keys WHERE id = ? FOR UPDATE", [blocked.id]);
      const revoking = post("mutation ($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", adminAuth, { ids });

      // Wait until the app's transaction has deleted the first batch and is waiting on our lock.
      let waiting = false;
      const deadline = Date.now() + 20_000; // generous: the test machine may be loaded
      while (!waiting && Date.now() < deadline) {
        const [rows] = await holder.query(
          // A DELETE running for over 300 ms on our database: the second statement, blocked by our lock
          // (the first deletes its one row in milliseconds).
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE 'DELETE%' AND TIME_MS > 300",
          [db.config.database],
        );
        waiting = Number((rows as Array<{ n: number }>)[0].n) > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!waiting) throw new Error(`revokeApiKeys never waited on the lock: ${JSON.stringify(await revoking)}`);

      await proxy.cut(); // the app's connection drops mid-transaction
      const result = await revoking;
      expect(result.status).toBe(503);
      expect(result.body.errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
      await holder.query("ROLLBACK");

      // The server rolls the orphaned transaction back once it sees the connection gone.
      let open = 1;
      for (let i = 0; i < 100 && open > 0; i++) {
        const [rows] = await holder.query(
          "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = ? AND p.ID <> CONNECTION_ID()",
          [db.config.database],
        );
        open = Number((rows as Array<{ n: number }>)[0].n);
        if (open > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const [remaining] = await holder.query("SELECT id FROM api_keys WHERE id IN (?, ?) ORDER BY id", [first.id, blocked.id]);
      expect((remaining as Array<{ id: number }>).map((r) => Number(r.id))).toEqual([first.id, blocked.id]);
    } finally {
      await holder.end();
    }
    await proxy.restore();
    await waitForReady();
    expect((await post("{ me { email } }", keyAuth(first.key))).status).toBe(200);
    expect((await post("{ me { email } }", keyAuth(blocked.key))).status).toBe(200);
  }, 60_000);

  test("revokeApiKeys with an id that is not an id: 400 and nothing revoked", async () => {
    const key = await generate("kept");
    const result = await post("mutation ($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", adminAuth, { ids: [String(key.id), "not-an-id"] });
    expect(result.status).toBe(400);
    expect((await post("{ me { email } }", keyAuth(key.key))).status).toBe(200);
  });
});
