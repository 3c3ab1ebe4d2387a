import { basic, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }";
const GENERATE = "mutation($description: String) { generateApiKey(description: $description) { key apiKey { id description } } }";
const API_KEYS = "query($filter: ApiKeyFilter, $after: String) { apiKeys(filter: $filter, after: $after, first: 500) { nodes { description } } }";
const REVOKE_WHERE = "mutation($filter: ApiKeyFilter!) { revokeApiKeysWhere(filter: $filter, dryRun: true) }";
const AUDIT = "query($filter: AuditEventFilter) { auditEvents(filter: $filter) { nodes { id } } }";

/** Each one shows nothing or changes how the text around it is shown. */
const UNSAFE = {
  "right-to-left override": "\u202e",
  "left-to-right isolate": "\u2066",
  "zero-width space": "\u200b",
  "byte order mark": "\ufeff",
  "Hangul filler": "\u3164",
  "tag character": "\u{e0041}",
  "bell": "\u0007",
  "line feed": "\n",
  "next line (C1)": "\u0085",
  "line separator": "\u2028",
};

describe("user-typed text: bounded filters, no invisible or reordering characters", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  const expectRefused = (result: Awaited<ReturnType<TestApp["graphql"]>>, submitted: string) => {
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(JSON.stringify(result.body)).not.toContain(JSON.stringify(submitted).slice(1, -1));
  };

  test.each(Object.entries(UNSAFE))("createUser: an email with a %s is 400 and no user is made", async (_name, character) => {
    const email = `gro${character}.x@live`;
    const result = await app.graphql(CREATE_USER, { input: { email, password: "long-enough-Secret1" } }, as(admin));
    expectRefused(result, email);
    expect(Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM users"))[0].n)).toBe(2);
  });

  test("createUser: a display name with a bidi override is 400", async () => {
    const result = await app.graphql(CREATE_USER, { input: { email: "carol@example.org", password: "long-enough-Secret1", displayName: "Carol \u202eadmin" } }, as(admin));
    expectRefused(result, "Carol \u202eadmin");
  });

  test.each(Object.entries(UNSAFE))("generateApiKey: a description with a %s is 400 and no key is made", async (_name, character) => {
    const description = `deploy ${character}key`;
    const result = await app.graphql(GENERATE, { description }, as(alice));
    expectRefused(result, description);
    expect(Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys"))[0].n)).toBe(0);
  });

  test("generateApiKey: emoji sequences (joiners, variation selectors) and accents are kept", async () => {
    const description = "👩‍💻 déploiement ❤️ 中文";
    const result = await app.graphql(GENERATE, { description }, as(alice));
    expect(result.body.data.generateApiKey.apiKey.description).toBe(description);
    await app.db.dataSource.query("DELETE FROM api_keys");
  });

  describe("filters", () => {
    const FILTERS: Array<[string, string, (text: string) => Record<string, unknown>]> = [
      ["apiKeys descriptionContains", API_KEYS, (text) => ({ filter: { descriptionContains: text } })],
      ["apiKeys ownerEmail", API_KEYS, (text) => ({ filter: { ownerEmail: text } })],
      ["revokeApiKeysWhere descriptionContains", REVOKE_WHERE, (text) => ({ filter: { descriptionContains: text } })],
      ["auditEvents action", AUDIT, (text) => ({ filter: { action: text } })],
      ["auditEvents actorEmail", AUDIT, (text) => ({ filter: { actorEmail: text } })],
    ];

    test.each(FILTERS)("%s: 90 KB is 400 BAD_USER_INPUT, not a 500; 257 characters too; 256 are fine", async (_name, query, variables) => {
      const huge = "a%_".repeat(30_000);
      expectRefused(await app.graphql(query, variables(huge), as(admin)), huge.slice(0, 300));
      expectRefused(await app.graphql(query, variables("é".repeat(257)), as(admin)), "é".repeat(257));
      // An action filter names one of the audit actions: any other text, even a short one, is 400.
      const fits = await app.graphql(query, variables("é".repeat(256)), as(admin));
      if (_name === "auditEvents action") expectRefused(fits, "é".repeat(256));
      else expect(fits.status).toBe(200);
    });

    test.each(FILTERS)("%s: a bidi override is 400", async (_name, query, variables) => {
      expectRefused(await app.graphql(query, variables("x\u202ey"), as(admin)), "x\u202ey");
    });

    test("a cursor longer than any this server makes is 400", async () => {
      expectRefused(await app.graphql(API_KEYS, { after: "A".repeat(90_000) }, as(admin)), "A".repeat(300));
    });

    test("descriptionContains: %, _ and the escape character ! match only themselves", async () => {
      for (const description of ["100% done", "100 done", "a_b", "axb", "x!y", "xy"]) await app.generateKey(alice, { description });
      const matching = async (text: string) =>
        ((await app.graphql(API_KEYS, { filter: { descriptionContains: text } }, as(admin))).body.data.apiKeys.nodes as Array<{ description: string }>).map((n) => n.description).sort();
      expect(await matching("%")).toEqual(["100% done"]);
      expect(await matching("_")).toEqual(["a_b"]);
      expect(await matching("!")).toEqual(["x!y"]);
      expect(await matching("!%")).toEqual([]);
      await app.db.dataSource.query("DELETE FROM api_keys");
    });
  });
});
