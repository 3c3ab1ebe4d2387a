import { basic, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const SECRET = "Wrong-shaped-S3cret";

describe("error messages never echo a submitted value", () => {
  let app: TestApp;
  let admin: TestUser;
  const asAdmin = () => basic(admin.email, admin.password);

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  const expectValueFree = (result: Awaited<ReturnType<TestApp["graphql"]>>, code: string, message?: RegExp) => {
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect(errorCode(result)).toBe(code);
    expect(JSON.stringify(result.body)).not.toMatch(/S3cret|S3CRET/);
    if (message) expect(result.body.errors![0].message).toMatch(message);
  };

  const VARIABLE_CASES: Array<[string, string, Record<string, unknown>, RegExp]> = [
    ["a list for a String", "mutation($d: String) { generateApiKey(description: $d) { key } }", { d: [SECRET] }, /^Variable "\$d" got an invalid value: String cannot represent a non string value\.$/],
    ["an object for a String", "mutation($d: String) { generateApiKey(description: $d) { key } }", { d: { password: SECRET } }, /String cannot represent a non string value\./],
    ["a string for an Int", "query($n: Int) { apiKeys(first: $n) { totalCount } }", { n: SECRET }, /Int cannot represent non-integer value\./],
    ["a string for an enum", "query($o: ApiKeyOrder) { apiKeys(orderBy: $o) { totalCount } }", { o: "S3CRET" }, /does not exist in "ApiKeyOrder" enum/],
    ["a string for a date, nested", "query($f: ApiKeyFilter) { apiKeys(filter: $f) { totalCount } }", { f: { createdBefore: SECRET } }, /at "f\.createdBefore"/],
    ["a list inside an input object", "query($f: ApiKeyFilter) { apiKeys(filter: $f) { totalCount } }", { f: { descriptionContains: [SECRET] } }, /at "f\.descriptionContains": String cannot represent/],
    ["an unknown field named by the value", "query($f: ApiKeyFilter) { apiKeys(filter: $f) { totalCount } }", { f: { [`${SECRET} x`]: 1 } }, /A field is not defined by type "ApiKeyFilter"/],
    ["an object in an ID list", "mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [{ a: SECRET }] }, /at "ids\[0\]"/],
    ["a number for a password", "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", { i: { email: "x@example.org", password: 12345678901 } }, /at "i\.password": String cannot represent/],
  ];

  test.each(VARIABLE_CASES)("variables: %s is BAD_USER_INPUT without the value", async (_name, query, variables, message) => {
    expectValueFree(await app.graphql(query, variables, asAdmin()), "BAD_USER_INPUT", message);
  });

  test("variables: a password of the wrong shape is not echoed", async () => {
    const result = await app.graphql("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", { i: { email: "y@example.org", password: [SECRET] } }, asAdmin());
    expectValueFree(result, "BAD_USER_INPUT");
  });

  test.each([
    ["a string literal for an Int", `{ apiKeys(first: "${SECRET}") { totalCount } }`],
    ["an unknown enum literal", "{ apiKeys(orderBy: S3CRET) { totalCount } }"],
    ["an object literal for a String", `mutation { generateApiKey(description: { a: "${SECRET}" }) { key } }`],
    ["a string literal for a date", `{ apiKeys(filter: { createdBefore: "${SECRET}" }) { totalCount } }`],
  ])("literals in the document: %s is GRAPHQL_VALIDATION_FAILED without the value", async (_name, query) => {
    expectValueFree(await app.graphql(query, undefined, asAdmin()), "GRAPHQL_VALIDATION_FAILED");
  });

  test("a syntax error next to a string literal does not quote it", async () => {
    expectValueFree(await app.graphql(`{ me(x: "a" "${SECRET}") { email } }`, undefined, asAdmin()), "GRAPHQL_PARSE_FAILED", /^Syntax Error: Expected Name, found String\.$/);
  });

  test("revokeApiKeys names bad ids by position, not by value", async () => {
    const result = await app.graphql("mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: ["1", SECRET] }, asAdmin());
    expectValueFree(result, "BAD_USER_INPUT", /positions 1 /);
  });
});
