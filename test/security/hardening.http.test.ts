import { getIntrospectionQuery } from "graphql";
import { basic, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const json = { "content-type": "application/json" };

describe("GraphQL limits (graphql-armor), CSRF, CORS and headers, default configuration", () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  const asAdmin = () => basic(admin.email, admin.password);

  test("the full introspection query still works in development (limits ignore introspection)", async () => {
    const result = await app.graphql(getIntrospectionQuery());
    expect(result.status).toBe(200);
    expect(result.body.data.__schema.queryType.name).toBe("Query");
  });

  test("the admin key list, as documented, passes every limit", async () => {
    const result = await app.graphql(
      `query ($after: String) { apiKeys(filter: { expired: false }, orderBy: LAST_USED_AT_DESC, first: 50, after: $after) {
        totalCount nodes { id hint description createdAt expiresAt lastUsedAt readOnly expired owner { email } } pageInfo { hasNextPage endCursor } } }`,
      {},
      asAdmin(),
    );
    expect(result.status).toBe(200);
    expect(result.body.data.apiKeys.totalCount).toBe(0);
  });

  test("more aliases than allowed: 400 GRAPHQL_VALIDATION_FAILED", async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: externalToolSettings { apiKeysEnabled }`).join(" ")} }`;
    const result = await app.graphql(query);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("too many directives: 400 GRAPHQL_VALIDATION_FAILED", async () => {
    const query = `{ externalToolSettings { apiKeysEnabled ${"@include(if: true) ".repeat(11)} } }`;
    const result = await app.graphql(query);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("too many tokens: 400 GRAPHQL_PARSE_FAILED, before validation", async () => {
    const query = `{ externalToolSettings { ${"apiKeysEnabled ".repeat(1200)} } }`;
    const result = await app.graphql(query);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_PARSE_FAILED");
  });

  test("too costly: 400 GRAPHQL_VALIDATION_FAILED", async () => {
    // 15 aliases of a nested list selection: cheap to write, expensive to run.
    const nodes = "nodes { id hint description createdAt expiresAt lastUsedAt readOnly expired owner { id email isAdmin active createdAt } }";
    const query = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: apiKeys(first: 500) { totalCount ${nodes} ${nodes.replace("nodes", "more: nodes")} }`).join(" ")} }`;
    const result = await app.graphql(query, undefined, asAdmin());
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("field suggestions are off: a typo does not reveal field names", async () => {
    const result = await app.graphql("{ externalToolSetting { apiKeysEnabled } }");
    expect(result.status).toBe(400);
    expect(JSON.stringify(result.body)).not.toMatch(/Did you mean|externalToolSettings/);
  });

  test("batched requests (a JSON array) are refused", async () => {
    const result = await app.post(JSON.stringify([{ query: "{ externalToolSettings { apiKeysEnabled } }" }, { query: "{ externalToolSettings { apiKeysEnabled } }" }]), json);
    expect(result.status).toBe(400);
  });

  test("CSRF prevention: a simple (no-preflight) GET or text/plain POST is refused", async () => {
    const get = await fetch(`${app.url}?query=${encodeURIComponent("{ externalToolSettings { apiKeysEnabled } }")}`);
    expect(get.status).toBe(400);
    const textPlain = await app.post(JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }), { "content-type": "text/plain" });
    expect(textPlain.status).toBe(400);
  });

  test("CORS default: no cross-origin access, preflight gets no Allow-Origin", async () => {
    const response = await fetch(app.url, { method: "POST", headers: { ...json, origin: "https://evil.example" }, body: JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }) });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(app.url, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-methods")).toBeNull();
  });

  test("security headers on every kind of response (200, 400, 401, 404, 413-free paths, health, preflight)", async () => {
    const responses = await Promise.all([
      fetch(app.url, { method: "POST", headers: json, body: JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }) }),
      fetch(app.url, { method: "POST", headers: json, body: "{" }),
      fetch(app.url, { method: "POST", headers: { ...json, authorization: "Basic !!" }, body: "{}" }),
      fetch(`http://127.0.0.1:${app.port}/nope`),
      fetch(`http://127.0.0.1:${app.port}/healthz`),
      fetch(`http://127.0.0.1:${app.port}/readyz`),
      fetch(app.url, { method: "OPTIONS", headers: { origin: "https://x.example", "access-control-request-method": "POST" } }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 400, 401, 404, 200, 200, 204]);
    for (const response of responses) {
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(response.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
      expect(response.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
      // Document-only headers: not on JSON (nothing to frame, open or refer from).
      expect([response.headers.get("x-frame-options"), response.headers.get("referrer-policy"), response.headers.get("cross-origin-opener-policy")]).toEqual([null, null, null]);
    }
  });

  test("HTML (the landing page, introspection on): the document headers as well", async () => {
    const response = await fetch(app.url, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

describe("production settings: NODE_ENV=production, CORS_ORIGINS set", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ NODE_ENV: "production", CORS_ORIGINS: "https://app.example.org, https://admin.example.org/", GRAPHQL_MAX_DEPTH: "3" });
  });
  afterAll(async () => {
    await app.close();
  });

  test("deeper than GRAPHQL_MAX_DEPTH: 400 GRAPHQL_VALIDATION_FAILED, limit not revealed", async () => {
    expect((await app.graphql("{ myApiKeys { owner { email } } }")).status).not.toBe(400); // depth 3: allowed (then 401: no credentials)
    const result = await app.graphql("{ apiKeys { nodes { owner { email } } } }");
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(result.body)).not.toMatch(/\b3\b/);
  });

  test("introspection is off by default in production", async () => {
    const result = await app.graphql("{ __schema { types { name } } }");
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(result.body)).not.toMatch(/"Query"/);
  });

  test("the landing page is off and the strict CSP applies", async () => {
    const response = await fetch(app.url, { headers: { accept: "text/html" } });
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(await response.text()).not.toMatch(/<html/i);
  });

  test("an unexpected error is masked (no SQL, no table, no stack) and logged in full on the server", async () => {
    await app.db.dataSource.query("ALTER TABLE external_tool_settings RENAME TO external_tool_settings_gone");
    try {
      const result = await app.graphql("{ externalToolSettings { apiKeysEnabled } }");
      const text = JSON.stringify(result.body);
      expect(result.body.errors![0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
      expect(text).not.toMatch(/external_tool_settings|select|sqlite|sql|no such table|doesn't exist|stack|\.ts:\d+|\bat /i);
      expect(text).not.toMatch(/\bER_[A-Z_]+/);
      expect(app.logLines.some((line) => /external_tool_settings/.test(line) && /"level":50/.test(line))).toBe(true);
    } finally {
      await app.db.dataSource.query("ALTER TABLE external_tool_settings_gone RENAME TO external_tool_settings");
    }
  });

  test("an allowed origin is echoed with credentials; preflight answered with methods and headers", async () => {
    const preflight = await fetch(app.url, { method: "OPTIONS", headers: { origin: "https://admin.example.org", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://admin.example.org");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    expect(preflight.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/Authorization/i);
    expect(preflight.headers.get("vary")).toMatch(/Origin/);
    const response = await fetch(app.url, { method: "POST", headers: { ...json, origin: "https://app.example.org" }, body: JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }) });
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.org");
  });

  test("an origin not on the list gets no Allow-Origin", async () => {
    const response = await fetch(app.url, { method: "POST", headers: { ...json, origin: "https://app.example.org.evil.example" }, body: JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }) });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("INTROSPECTION=true overrides the production default", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ NODE_ENV: "production", INTROSPECTION: "true" });
  });
  afterAll(async () => {
    await app.close();
  });

  test("introspection answers", async () => {
    const result = await app.graphql("{ __schema { queryType { name } } }");
    expect(result.body.data.__schema.queryType.name).toBe("Query");
  });
});
