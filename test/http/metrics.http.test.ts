import net from "node:net";
import { Metrics } from "../../src/observability/metrics";
import { type App, createApp } from "../../src/http/app";
import { createDataSource, toSqlDateTime } from "../../src/db/data-source";
import { createRuntime } from "../../src/runtime";
import { basic, startTestApp, type TestApp, viaKey } from "../support/app";
import { testDatabaseKind } from "../support/database";

/** The value of one sample in Prometheus text, or undefined if absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe("GET /metrics (Prometheus)", () => {
  let app: TestApp;
  const scrape = async (target: { port: number } = app, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${target.port}/metrics`, { headers });
    return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
  };

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
  });
  afterAll(async () => {
    await app.close();
  });

  test("exposes every documented metric, in the Prometheus text format", async () => {
    const { status, contentType, text } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      "xta_http_requests_total",
      "xta_http_request_duration_seconds",
      "xta_authentications_total",
      "xta_api_keys_active",
      "xta_last_used_pending",
      "xta_last_used_flush_duration_seconds",
      "xta_process_cpu_user_seconds_total",
      "xta_nodejs_heap_size_used_bytes",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  test("request and authentication counters move with requests, by operation, status, method and reason", async () => {
    const alice = await app.createUser("alice@example.org");
    const before = (await scrape()).text;
    const ok = { route: "/graphql", operation: "WhoAmI", status: "200" };
    const passwordOk = { method: "password", outcome: "success" };
    const passwordBad = { method: "password", outcome: "failure", reason: "INVALID" };

    expect((await app.graphql("query WhoAmI { me { email } }", {}, basic(alice.email, alice.password))).status).toBe(200);
    expect((await app.graphql("query WhoAmI { me { email } }", {}, basic(alice.email, alice.password))).status).toBe(200);
    expect((await app.graphql("query WhoAmI { me { email } }", {}, basic(alice.email, "wrong-password"))).status).toBe(401);
    expect((await app.graphql("{ externalToolSettings { apiKeysEnabled } }")).status).toBe(200);

    const after = (await scrape()).text;
    expect((sample(after, "xta_http_requests_total", ok) ?? 0) - (sample(before, "xta_http_requests_total", ok) ?? 0)).toBe(2);
    // Refused before its body was read: the operation is not known.
    expect(sample(after, "xta_http_requests_total", { route: "/graphql", operation: "", status: "401" })).toBeGreaterThanOrEqual(1);
    expect((sample(after, "xta_authentications_total", passwordOk) ?? 0) - (sample(before, "xta_authentications_total", passwordOk) ?? 0)).toBe(2);
    expect((sample(after, "xta_authentications_total", passwordBad) ?? 0) - (sample(before, "xta_authentications_total", passwordBad) ?? 0)).toBe(1);
    expect(sample(after, "xta_authentications_total", { method: "none", outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "xta_http_request_duration_seconds_count", { route: "/graphql" })).toBeGreaterThan(sample(before, "xta_http_request_duration_seconds_count", { route: "/graphql" }) ?? 0);
    // The failed password never shows up anywhere in the exposition.
    expect(after).not.toContain("wrong-password");
  });

  test("client-chosen operation names cannot inject lines or explode the label set", async () => {
    const json = { "content-type": "application/json" };
    await app.post(JSON.stringify({ query: "query A { __typename }", operationName: 'A"} 1\nfake_metric 1' }), json);
    expect((await scrape()).text).not.toMatch(/^fake_metric/m);

    // Past the cap, new names count as "other" (fed directly: 210 HTTP requests add nothing here).
    const metrics = new Metrics({ countActiveKeys: () => app.services.apiKeys.countActive(), lastUsed: app.services.lastUsed, logger: app.logger }, { defaultMetrics: false });
    for (let i = 0; i < 210; i++) metrics.observeRequest("/graphql", `Op${i}`, 200, 0.001);
    metrics.observeRequest("/graphql", "Op0", 200, 0.001);
    const text = await metrics.registry.metrics();
    const names = new Set([...text.matchAll(/^xta_http_requests_total\{[^}]*operation="([^"]*)"/gm)].map((m) => m[1]));
    expect(names.size).toBe(201);
    expect(sample(text, "xta_http_requests_total", { operation: "other" })).toBe(10);
    expect(sample(text, "xta_http_requests_total", { operation: "Op0" })).toBe(2);
  });

  test("lastUsed queue size and flush duration", async () => {
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(alice);
    expect((await app.graphql("{ me { email } }", {}, viaKey(key))).status).toBe(200);
    const queued = (await scrape()).text;
    expect(sample(queued, "xta_last_used_pending")).toBe(1);
    expect(sample(queued, "xta_authentications_total", { method: "apikey", outcome: "success" })).toBeGreaterThanOrEqual(1);
    const flushesBefore = sample(queued, "xta_last_used_flush_duration_seconds_count", { outcome: "ok" }) ?? 0;

    await app.services.lastUsed.flush();
    const flushed = (await scrape()).text;
    expect(sample(flushed, "xta_last_used_pending")).toBe(0);
    expect(sample(flushed, "xta_last_used_flush_duration_seconds_count", { outcome: "ok" })).toBe(flushesBefore + 1);
  });

  test("active keys gauge counts unexpired keys; several apps keep separate registries", async () => {
    const metrics = new Metrics({ countActiveKeys: () => app.services.apiKeys.countActive(), lastUsed: app.services.lastUsed, logger: app.logger }, { activeKeysCacheMs: 0, defaultMetrics: false });
    const second: App = await createApp({ config: app.config, dataSource: app.db.dataSource, logger: app.logger, services: app.services, metrics });
    try {
      const { port } = await second.listen(0, "127.0.0.1");
      expect(sample((await scrape({ port })).text, "xta_api_keys_active")).toBe(0);
      const alice = await app.createUser("alice@example.org");
      await app.setKeysEnabled(true);
      await app.generateKey(alice);
      const expired = await app.generateKey(alice);
      await app.db.dataSource.query("UPDATE api_keys SET expires_at = ? WHERE id = ?", [toSqlDateTime(new Date(Date.now() - 1000)), Number(expired.id)]);
      const text = (await scrape({ port })).text;
      expect(sample(text, "xta_api_keys_active")).toBe(1);
      // Requests to the first app were not counted by the second one's registry.
      expect(sample(text, "xta_http_requests_total", { route: "/graphql" })).toBeUndefined();
      expect(second.metrics).toBe(metrics);
    } finally {
      await second.stop();
    }
  });
});

describe("GET /metrics with METRICS_TOKEN", () => {
  const token = "metrics-token-0123456789abcdef";
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await app.close();
  });
  const get = (authorization?: string) => fetch(`http://127.0.0.1:${app.port}/metrics`, { headers: authorization ? { authorization } : {} });

  test("without the bearer token: 401; with a wrong one: 401; with it: 200", async () => {
    const missing = await get();
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    await expect(missing.json()).resolves.toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
    expect((await get(`Bearer ${token}x`)).status).toBe(401);
    expect((await get(`Bearer ${token.slice(0, -1)}`)).status).toBe(401);
    expect((await get(`Basic ${Buffer.from(`x:${token}`).toString("base64")}`)).status).toBe(401);
    const ok = await get(`Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("xta_http_requests_total");
  });

  test("the token appears in no log line", async () => {
    await get(`Bearer ${token}`);
    expect(app.logLines.join("")).not.toContain(token);
  });
});

describe("GET /readyz when the database is not usable", () => {
  test("database connection gone: 503, while /healthz stays 200", async () => {
    const app = await startTestApp();
    try {
      const base = `http://127.0.0.1:${app.port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await app.db.dataSource.destroy();
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      await expect(response.json()).resolves.toEqual({ status: "unavailable", reason: "database unreachable" });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  test("a migration pending: 503 until it is applied", async () => {
    const app = await startTestApp();
    try {
      const base = `http://127.0.0.1:${app.port}`;
      await app.db.dataSource.undoLastMigration({ transaction: "each" });
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      await expect(response.json()).resolves.toEqual({ status: "unavailable", reason: "migrations pending" });
      await app.db.dataSource.runMigrations({ transaction: "each" });
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  // A TCP relay in front of the shared MariaDB: closing it cuts this app off without touching the server.
  (testDatabaseKind() === "mariadb" ? test : test.skip)("MariaDB unreachable over the network: 503, then 200 when it is back", async () => {
    const app = await startTestApp();
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect((app.db.config as { port: number }).port, "127.0.0.1");
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => (client.destroy(), upstream.destroy());
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const dataSource = createDataSource({ ...(app.db.config as Extract<typeof app.db.config, { kind: "mysql" }>), port: relayPort });
    await dataSource.initialize();
    const relayed = await createRuntime(app.config, { dataSource, logger: app.logger, bcryptCost: 4 });
    try {
      const { port } = await (await relayed.serve()).listen(0, "127.0.0.1");
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

      await new Promise<void>((resolve) => {
        relay.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      const down = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(down.status).toBe(503);
      await expect(down.json()).resolves.toMatchObject({ reason: "database unreachable" });

      await new Promise<void>((resolve) => relay.listen(relayPort, "127.0.0.1", resolve));
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
        status = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    } finally {
      await relayed.stop();
      await dataSource.destroy().catch(() => undefined);
      relay.close();
      for (const socket of sockets) socket.destroy();
      await app.close();
    }
  });
});
