import { startTestApp, type TestApp, type TestUser, basic } from "../support/app";

describe("HTTP server", () => {
  let app: TestApp;
  let alice: TestUser;
  const base = () => `http://127.0.0.1:${app.port}`;

  beforeAll(async () => {
    app = await startTestApp({ MAX_BODY_BYTES: "4096" });
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
  });
  afterAll(async () => {
    await app.close();
  });

  test("GET /healthz: 200 while the process is up", async () => {
    const response = await fetch(`${base()}/healthz`);
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ status: "ok" });
  });

  test("GET /readyz: 200 with the database reachable and migrations applied", async () => {
    const response = await fetch(`${base()}/readyz`);
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ status: "ready" });
  });

  test("unknown path: 404 JSON", async () => {
    const response = await fetch(`${base()}/nope`);
    expect(response.status).toBe(404);
    await expect(response.json()).resolves.toMatchObject({ errors: [{ extensions: { code: "NOT_FOUND" } }] });
  });

  test("every response carries security headers and no-store", async () => {
    const response = await fetch(`${base()}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" }) });
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("body over MAX_BODY_BYTES: 413, no parsing", async () => {
    const result = await app.post(JSON.stringify({ query: "{ me { id } }", padding: "x".repeat(8000) }), { "content-type": "application/json" });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.text)).toMatchObject({ errors: [{ extensions: { code: "BAD_REQUEST" } }] });
  });

  test("invalid JSON body: 400 BAD_REQUEST", async () => {
    const result = await app.post("{ not json", { "content-type": "application/json" });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.text).errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  test("GraphQL syntax error: 400 with GRAPHQL_PARSE_FAILED, no stack trace", async () => {
    const result = await app.post(JSON.stringify({ query: "{ me { " }), { "content-type": "application/json" });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.text).errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(result.text).not.toMatch(/stacktrace|at .*\.js/);
  });

  test("unknown field: 400 GRAPHQL_VALIDATION_FAILED", async () => {
    const result = await app.graphql("{ nope }", undefined, basic(alice.email, alice.password));
    expect(result.status).toBe(400);
    expect(result.body.errors![0].extensions!.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("batched arrays are refused with 400", async () => {
    const result = await app.post(JSON.stringify([{ query: "{ externalToolSettings { apiKeysEnabled } }" }]), { "content-type": "application/json" });
    expect(result.status).toBe(400);
  });

  test("a simple cross-site form post is refused by CSRF prevention", async () => {
    const result = await app.post("query={ externalToolSettings { apiKeysEnabled } }", { "content-type": "text/plain" });
    expect(result.status).toBe(400);
    expect(result.text).toMatch(/CSRF|content-type/i);
  });

  test("GET without a preflight header is refused by CSRF prevention; either preflight header lets it through", async () => {
    const url = `${base()}/graphql?query=${encodeURIComponent("{ externalToolSettings { apiKeysEnabled } }")}`;
    const bare = await fetch(url);
    expect(bare.status).toBe(400);
    await expect(bare.text()).resolves.toMatch(/CSRF/);
    for (const header of ["apollo-require-preflight", "x-apollo-operation-name"]) {
      const passed = await fetch(url, { headers: { [header]: "1" } });
      expect({ header, status: passed.status }).toEqual({ header, status: 200 });
    }
  });

  test("accept: application/graphql-response+json is answered in that type; the default is application/json", async () => {
    const body = JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" });
    const negotiated = await app.post(body, { "content-type": "application/json", accept: "application/graphql-response+json" });
    expect(negotiated.headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
    const plain = await app.post(body, { "content-type": "application/json" });
    expect(plain.headers.get("content-type")).toMatch(/^application\/json/);
  });

  test("data that merely mentions SERVICE_UNAVAILABLE is not a 503", async () => {
    await app.setKeysEnabled(true);
    // The JSON body then holds "SERVICE_UNAVAILABLE" as a value: the text pre-filter matches, the errors do not.
    const generated = await app.graphql('mutation { generateApiKey(description: "SERVICE_UNAVAILABLE") { apiKey { description } } }', undefined, basic(alice.email, alice.password));
    expect(generated.status).toBe(200);
    expect(generated.body.data.generateApiKey.apiKey.description).toBe("SERVICE_UNAVAILABLE");
    const listed = await app.graphql("{ myApiKeys { description } }", undefined, basic(alice.email, alice.password));
    expect(listed.status).toBe(200);
    expect(listed.body.data.myApiKeys).toEqual([{ description: "SERVICE_UNAVAILABLE" }]);
  });

  test("GET queries with credentials work, mutations over GET are refused", async () => {
    const authorization = "Basic " + Buffer.from(`${alice.email}:${alice.password}`).toString("base64");
    const query = encodeURIComponent("{ me { email } }");
    const ok = await fetch(`${base()}/graphql?query=${query}`, { headers: { authorization, "apollo-require-preflight": "1" } });
    expect(ok.status).toBe(200);
    await expect(ok.json()).resolves.toEqual({ data: { me: { email: alice.email } } });
    const mutation = encodeURIComponent("mutation { revokeAllApiKeys }");
    const refused = await fetch(`${base()}/graphql?query=${mutation}`, { headers: { authorization, "apollo-require-preflight": "1" } });
    expect(refused.status).toBe(405);
  });

  test("a database failure inside a resolver is masked as INTERNAL_SERVER_ERROR, no SQL in the response", async () => {
    await app.db.dataSource.query("ALTER TABLE external_tool_settings RENAME TO external_tool_settings_moved");
    try {
      const result = await app.graphql("{ externalToolSettings { apiKeysEnabled } }");
      expect(result.body.errors![0]).toEqual(expect.objectContaining({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }));
      expect(JSON.stringify(result.body)).not.toMatch(/external_tool_settings|SELECT|sqlite|mysql/i);
      expect(app.logLines.some((line) => line.includes("unexpected error in GraphQL execution"))).toBe(true);
    } finally {
      await app.db.dataSource.query("ALTER TABLE external_tool_settings_moved RENAME TO external_tool_settings");
    }
  });

  test("access log: one JSON line per request with who, how, what and how long; anonymous requests without user", async () => {
    await app.setKeysEnabled(true);
    const { key, id } = await app.generateKey(alice);
    app.logLines.length = 0;
    await app.graphql("query WhoAmI { me { email } }", undefined, { basic: ["apikey", key] });
    await app.graphql("{ externalToolSettings { apiKeysEnabled } }");
    const lines = app.logLines.map((text) => JSON.parse(text)).filter((entry) => entry.msg === "request");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      method: "POST",
      path: "/graphql",
      status: 200,
      clientIp: "127.0.0.1",
      userId: alice.id,
      email: alice.email,
      authMethod: "apikey",
      keyId: Number(id),
      operationName: "WhoAmI",
      operationType: "query",
    });
    expect(typeof lines[0].time).toBe("string");
    expect(lines[0].requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0].durationMs).toBeGreaterThan(0);
    expect(lines[1]).toMatchObject({ status: 200, operationType: "query" });
    expect(lines[1].userId).toBeUndefined();
    expect(app.logLines.join("\n")).not.toContain(key);
  });
});
