import fc from "fast-check";
import { basic, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";
import { fakePagesBuild } from "../support/pages";
import { inPool, rawRequest } from "../support/raw-http";

const REQUESTS = 2000;
const ME = "{ me { email } }";

/** Every row of every table, minus lastUsedAt (legitimately written by key use). */
async function snapshot(app: TestApp): Promise<string> {
  const users = await app.db.dataSource.query("SELECT id, email, password_hash, is_admin, active FROM users ORDER BY id");
  const keys = await app.db.dataSource.query("SELECT id, owner_id, key_hash, hint, description, created_at, expires_at, read_only FROM api_keys ORDER BY id");
  const settings = await app.db.dataSource.query("SELECT * FROM external_tool_settings");
  return JSON.stringify({ users, keys, settings });
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("HTTP fuzzing: thousands of malformed requests", () => {
  let app: TestApp;
  let admin: TestUser;
  let readOnlyAdminKey: string;
  let aliceKey: string;
  let pages: Awaited<ReturnType<typeof fakePagesBuild>>;

  beforeAll(async () => {
    // Pages from a fake build: "/" answers the same whether or not `npm run build:web` has run.
    pages = await fakePagesBuild();
    app = await startTestApp({ MAX_BODY_BYTES: "16384", WEB_DIR: pages.webDir });
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    const alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    readOnlyAdminKey = (await app.generateKey(admin, { readOnly: true, description: "fuzz" })).key;
    aliceKey = (await app.generateKey(alice)).key;
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
    await pages?.remove();
  });

  test(`${REQUESTS} random requests: no 5xx, no hang, server healthy, database unchanged`, async () => {
    const before = await snapshot(app);

    const token = fc.constantFrom("{", "}", "(", ")", "[", "]", ":", "$", "@", "!", "...", "query", "mutation", "subscription", "fragment", "on", "me", "email", "apiKeys", "myApiKeys", "externalToolSettings", "__schema", "__typename", "first", "-1", "1e309", '"', '"\\u0000"', "#", "\n", "@include(if: true)");
    const garbageQuery = fc.array(fc.oneof(token, fc.string({ maxLength: 6 })), { maxLength: 40 }).map((parts) => parts.join(" "));
    const jsonValue = fc.jsonValue({ maxDepth: 3 });
    const body = fc.oneof(
      garbageQuery.map((query) => JSON.stringify({ query })),
      fc.record({ query: fc.oneof(garbageQuery, jsonValue), variables: jsonValue, operationName: fc.oneof(fc.string(), jsonValue), extensions: jsonValue }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc.array(fc.record({ query: garbageQuery }), { maxLength: 5 }).map((batch) => JSON.stringify(batch)), // batched arrays
      jsonValue.map((v) => JSON.stringify(v)),
      fc.string({ unit: "binary", maxLength: 300 }),
      garbageQuery.map((q) => JSON.stringify({ query: q }).slice(0, -3)), // truncated JSON
      fc.constant(JSON.stringify({ query: ME, padding: "x".repeat(20_000) })), // over MAX_BODY_BYTES
      fc.constant(""),
    );
    // Email:password attempts run bcrypt (~70 ms of CPU against the dummy hash): rare here, to keep the run short.
    const header = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 6 },
      { arbitrary: fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`), weight: 4 },
      { arbitrary: fc.string({ maxLength: 60 }).map((s) => `Basic ${b64(s)}`), weight: 1 },
      { arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((s) => `Basic ${b64(`apikey:${s}`)}`), weight: 4 },
      { arbitrary: fc.constant(`Basic ${b64(`apikey:${"A".repeat(5000)}`)}`), weight: 1 },
      { arbitrary: fc.constant("Bearer x"), weight: 1 },
    );
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "G ET"),
      path: fc.oneof(
        fc.constantFrom("/graphql", "/graphql", "/graphql/", "/healthz", "/readyz", "/", "/%", "/%00", "//graphql", "/graphql?%", "*", "http://evil/graphql", "/login", "/admin/keys?x=%", "/assets/index-B4x9Qz1k.js", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%5Csecret.txt", "/assets/%"),
        garbageQuery.map((q) => `/graphql?query=${encodeURIComponent(q)}`),
        fc.string({ maxLength: 30 }).map((s) => `/graphql?${s.replace(/[\s]/g, "")}`),
      ),
      contentType: fc.constantFrom(undefined, "application/json", "application/json; charset=utf-8", "text/plain", "application/graphql", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=latin1", "json", "*/*"),
      authorization: header,
      apikey: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 }), fc.constant(readOnlyAdminKey)),
      useReadOnlyAdminKey: fc.boolean(),
      preflightHeader: fc.boolean(),
      forwardedFor: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 })),
      body,
      lengthLie: fc.constantFrom(0, 0, 0, 1, -1),
    });
    const requests = fc.sample(request, { numRuns: REQUESTS, seed: 20261127 });

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    await inPool(requests, 16, async (r) => {
      const bodyBytes = Buffer.from(r.body, "utf8");
      const headers: string[] = ["Host: 127.0.0.1", "Connection: close"];
      if (r.contentType) headers.push(`Content-Type: ${r.contentType}`);
      const authorization = r.useReadOnlyAdminKey ? `Basic ${b64(`apikey:${readOnlyAdminKey}`)}` : r.authorization;
      if (authorization) headers.push(`Authorization: ${authorization.replace(/[\r\n]/g, "")}`);
      if (r.apikey !== undefined) headers.push(`apikey: ${r.apikey.replace(/[\r\n]/g, "")}`);
      if (r.preflightHeader) headers.push("Apollo-Require-Preflight: true");
      if (r.forwardedFor !== undefined) headers.push(`X-Forwarded-For: ${r.forwardedFor.replace(/[\r\n]/g, "")}`);
      const sendsBody = !["GET", "HEAD"].includes(r.method) || r.lengthLie !== 0;
      if (sendsBody) headers.push(`Content-Length: ${Math.max(0, bodyBytes.length + r.lengthLie)}`);
      const head = Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`, "utf8");
      const response = await rawRequest(app.port, sendsBody ? Buffer.concat([head, bodyBytes]) : head, { halfClose: r.lengthLie > 0 });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500) failures.push(`${response.status} for ${r.method} ${r.path}: ${response.text.slice(0, 300)}`);
    });

    expect(failures).toEqual([]);
    // Most requests got a real answer (0 = closed without one, e.g. a body shorter than its Content-Length).
    expect([...statuses].filter(([status]) => status >= 200 && status < 500).reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(REQUESTS * 0.8);

    expect((await fetch(`http://127.0.0.1:${app.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${app.port}/readyz`)).status).toBe(200);
    const me = await app.graphql(ME, undefined, viaKey(aliceKey));
    expect(me.body.data.me.email).toBe("alice@example.org");
    expect((await app.graphql(ME, undefined, basic(admin.email, admin.password))).status).toBe(200);
    expect(await snapshot(app)).toBe(before);
    expect(app.logLines.filter((line) => /"level":50/.test(line))).toEqual([]); // no unexpected error logged
  }, 120_000);

  test("malformed HTTP itself (request line, headers, chunking): 4xx or closed, never 5xx or a hang", async () => {
    const payloads = [
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET /graphql HTTP/9.9\r\n\r\n",
      "GET /graphql HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
      "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
      "POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
      `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(300_000)}\r\n\r\n`,
      "GET /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \u00ff\u00fe\r\n\r\n",
      "\u0000\u0001\u0002\r\n\r\n",
      "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]",
    ];
    for (const payload of payloads) {
      const response = await rawRequest(app.port, Buffer.from(payload, "latin1"), { halfClose: true });
      expect({ payload: payload.slice(0, 60), fine: response.status < 500 }).toEqual({ payload: payload.slice(0, 60), fine: true });
      if (response.status > 0) expect(response.text.toLowerCase()).toContain("x-content-type-options: nosniff");
    }
    expect((await fetch(`http://127.0.0.1:${app.port}/healthz`)).status).toBe(200);
  });

  test("property (fast-check) over HTTP: any Authorization bytes give a clean 401 (or 400), never 5xx, never a partial identity", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 80 }).map((s) => `Basic ${b64(s)}`), // sometimes email:password (bcrypt)
          fc.string({ unit: "binary", maxLength: 80 }).map((s) => `Basic ${b64(`apikey:${s}`)}`),
          fc.string({ maxLength: 80 }).map((s) => `Basic ${b64(`apikey:${aliceKey.slice(0, 10)}${s}`)}`),
          fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
          fc.constant(`Basic ${b64(`apikey:${aliceKey}`)}`),
        ),
        async (authorization) => {
          const value = authorization.replace(/[\r\n]/g, "");
          const body = JSON.stringify({ query: ME });
          const response = await rawRequest(
            app.port,
            Buffer.concat([Buffer.from(`POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nAuthorization: `, "latin1"), Buffer.from(value, "latin1"), Buffer.from(`\r\n\r\n${body}`, "latin1")]),
          );
          const realKey = value === `Basic ${b64(`apikey:${aliceKey}`)}`;
          if (realKey) {
            expect(response.status).toBe(200);
            expect(response.text).toContain("alice@example.org");
          } else {
            expect([400, 401]).toContain(response.status);
            expect(response.text).not.toContain('"me"');
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
