import { AUTH_MISTAKE_HINTS, PERMISSION_DENIED_MESSAGE } from "../../src/errors";
import { basic, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";
import { withAdminAndAlice } from "../support/admin-and-alice";

/** The value of one counter sample in Prometheus text, 0 when absent. */
function counter(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name}{`) && wanted.every((label) => candidate.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

describe("refusals that tell a person what to do", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  const ME = "{ me { email } }";
  const scrape = async () => (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();

  withAdminAndAlice((...given) => ([app, admin, alice] = given));

  test("an email as Basic username with a key as password: 401 with LabKey's message and a hint to use the username apikey", async () => {
    const { key } = await app.generateKey(alice);
    const result = await app.graphql(ME, undefined, basic(alice.email, key));
    expect(result.status).toBe(401);
    expect(result.body.errors![0]).toEqual({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "UNAUTHENTICATED", reason: "INVALID", hint: AUTH_MISTAKE_HINTS.KEY_AS_PASSWORD } });
    expect(result.body.errors![0].extensions!.hint).toContain("`apikey`");
    // The same for an email that does not exist: the hint depends on what was sent, not on who exists.
    expect((await app.graphql(ME, undefined, basic("nobody@example.org", key))).body).toEqual(result.body);
    // A wrong ordinary password keeps the general hint.
    expect((await app.graphql(ME, undefined, basic(alice.email, "not the password"))).body.errors![0].extensions!.hint).not.toContain("`apikey`");
  });

  test("Authorization: Bearer: 401 MALFORMED with a hint naming both ways to send a key", async () => {
    const { key } = await app.generateKey(alice);
    const result = await app.graphql(ME, undefined, { headers: { authorization: `Bearer ${key}` } });
    expect(result.status).toBe(401);
    expect(result.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(result.body.errors![0]).toEqual({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "UNAUTHENTICATED", reason: "MALFORMED", hint: AUTH_MISTAKE_HINTS.BEARER_SCHEME } });
    expect(JSON.stringify(result.body)).not.toContain(key);
  });

  test("403 says why: READ_ONLY_KEY for a mutation with a read-only key, ADMIN_REQUIRED for a non-admin", async () => {
    const { key } = await app.generateKey(alice, { readOnly: true });
    const readOnly = await app.graphql('mutation { generateApiKey(description: "x") { key } }', undefined, viaKey(key));
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.errors![0]).toMatchObject({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "FORBIDDEN", reason: "READ_ONLY_KEY", hint: expect.stringMatching(/read-only/) } });
    const notAdmin = await app.graphql("mutation { revokeAllApiKeys }", undefined, basic(alice.email, alice.password));
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.errors![0]).toMatchObject({ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "FORBIDDEN", reason: "ADMIN_REQUIRED", hint: expect.stringMatching(/site admin/) } });
    expect((await app.graphql("{ externalToolSettings { apiKeysEnabled } }", undefined, basic(admin.email, admin.password))).status).toBe(200);
  });

  test("/metrics: a request refused as MISSING counts as method none, failure MISSING; one that needed no credentials as anonymous", async () => {
    const before = await scrape();
    const missing = { method: "none", outcome: "failure", reason: "MISSING" };
    const anonymous = { method: "none", outcome: "anonymous" };
    const refused = await app.graphql(ME);
    expect(refused.status).toBe(401);
    expect(refused.body.errors![0].extensions).toMatchObject({ reason: "MISSING" });
    expect((await app.graphql("{ externalToolSettings { apiKeysEnabled } }")).status).toBe(200);
    const after = await scrape();
    expect(counter(after, "xta_authentications_total", missing) - counter(before, "xta_authentications_total", missing)).toBe(1);
    expect(counter(after, "xta_authentications_total", anonymous) - counter(before, "xta_authentications_total", anonymous)).toBe(1);
    expect(after).not.toMatch(/xta_authentications_total\{method="none",outcome="success"/);
  });
});

describe("introspection off (production's default)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ INTROSPECTION: "false" });
  });
  afterAll(async () => {
    await app.close();
  });

  test("the refusal names the INTROSPECTION variable, not Apollo's constructor option", async () => {
    const result = await app.graphql("{ __schema { queryType { name } } }");
    expect(result.status).toBe(400);
    expect(result.body.errors![0].extensions!.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(result.body.errors![0].message).toContain("INTROSPECTION=true");
    expect(result.body.errors![0].message).not.toMatch(/ApolloServer|introspection: true/);
  });
});
