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

    // An in-flight request: headers sent, body not yet. The server's "100 Continue" says it has
    // the request (Node answers Expect: 100-continue when it emits the request), before SIGTERM.
    const { port } = new URL(server.url);
    const body = JSON.stringify({ query: "{ me { email } }" });
    const socket = net.connect({ host: "127.0.0.1", port: Number(port) });
    let answer = "";
    const received = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (pattern.test(answer) ? resolve() : undefined);
        socket.on("data", (chunk) => {
          answer += chunk.toString();
          check();
        });
        socket.once("error", reject);
      });
    const continued = received(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    const answered = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nAuthorization: ${keyAuth}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    await continued;

    server.process.kill("SIGTERM");
    // New connections are refused once shutdown has begun, while the in-flight request holds the process.
    await connectionRefused(Number(port));
    expect(server.process.exitCode).toBeNull();

    socket.write(body);
    await answered;
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expect(answer).toContain(adminEmail);

    expect(await server.exited).toBe(0);
    const [flushed] = await db.dataSource.query("SELECT last_used_at FROM api_keys WHERE id = ?", [Number(apiKey.id)]);
    expect(flushed.last_used_at).not.toBeNull();
    expect(server.output()).toMatch(/"msg":"shutting down"/);
    expect(server.output()).not.toContain(adminPassword);
    expect(server.output()).not.toContain(key);
  });
});

/** Resolves once a connection to the port is refused; connections that still succeed are closed at once. */
async function connectionRefused(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const probe = net.connect({ host: "127.0.0.1", port });
      probe.once("connect", () => {
        probe.destroy();
        resolve(false);
      });
      probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
    });
    if (refused) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`port ${port} still accepts connections ${timeoutMs} ms after SIGTERM`);
}
