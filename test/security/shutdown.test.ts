import net from "node:net";
import { type ChildServer, startChildServer } from "../support/child-server";
import { createTestDatabase, type TestDatabase } from "../support/database";

describe("SIGTERM", () => {
  let db: TestDatabase;
  let server: ChildServer;
  const adminEmail = "admin@example.org";
  const adminPassword = "shutdown-Admin-Secret";
  const adminAuth = "Basic " + Buffer.from(`${adminEmail}:${adminPassword}`).toString("base64");

  beforeAll(async () => {
    db = await createTestDatabase();
    // lastUsedAt is flushed only at shutdown here (the periodic flush is an hour away).
    server = await startChildServer({ DATABASE_URL: db.url, ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword, LAST_USED_MIN_INTERVAL_MS: "0", LAST_USED_FLUSH_INTERVAL_MS: "3600000" });
  }, 120_000);
  afterAll(async () => {
    await server?.stop("SIGKILL");
    await db.destroy();
  });

  const post = async (query: string, authorization: string) => {
    const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify({ query }) });
    return { status: response.status, body: (await response.json()) as any };
  };

  test("stops accepting, finishes the in-flight request, flushes pending lastUsedAt, closes the pool, exits 0", async () => {
    await post("mutation { updateExternalToolSettings(input: { apiKeysEnabled: true }) { apiKeysEnabled } }", adminAuth);
    const generated = await post("mutation { generateApiKey(description: \"shutdown\") { key apiKey { id } } }", adminAuth);
    const { key, apiKey } = generated.body.data.generateApiKey;
    const keyAuth = "Basic " + Buffer.from(`apikey:${key}`).toString("base64");
    expect((await post("{ me { email } }", keyAuth)).status).toBe(200);
    const [pending] = await db.dataSource.query("SELECT last_used_at FROM api_keys WHERE id = ?", [Number(apiKey.id)]);
    expect(pending.last_used_at).toBeNull(); // noted in memory only

    // An in-flight request: headers sent, body not yet complete when SIGTERM arrives.
    const { port } = new URL(server.url);
    const body = JSON.stringify({ query: "{ me { email } }" });
    const socket = net.connect({ host: "127.0.0.1", port: Number(port) });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString()));
    const answered = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: ${keyAuth}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));

    server.process.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(server.process.exitCode).toBeNull(); // waiting for the in-flight request
    // New connections are no longer accepted.
    await expect(fetch(`${server.base}/healthz`)).rejects.toThrow();

    socket.write(body.slice(10));
    await answered;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain(adminEmail);

    expect(await server.exited).toBe(0);
    const [flushed] = await db.dataSource.query("SELECT last_used_at FROM api_keys WHERE id = ?", [Number(apiKey.id)]);
    expect(flushed.last_used_at).not.toBeNull();
    expect(server.output()).toMatch(/"msg":"shutting down"/);
    expect(server.output()).not.toContain(adminPassword);
    expect(server.output()).not.toContain(key);
  });
});
