import { basic, type Credentials, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const ME = "{ me { id email } }";
const LIMIT = 5;
const CREATE = "mutation ($input: CreateUserInput!) { createUser(input: $input) { id email } }";
const from = (ip: string, credentials: Credentials): Credentials => ({ ...credentials, headers: { ...(credentials.headers ?? {}), "x-forwarded-for": ip } });

/**
 * Issue 13.4: MariaDB's utf8mb4_unicode_ci ignored accents, so `alíce@` with alice's password
 * logged in as alice while the throttle counted `alíce@` as another account. Emails are now one
 * canonical form (NFKC, lower case, trimmed), compared byte for byte on both databases.
 */
describe("one canonical form of an email", () => {
  let app: TestApp;
  let admin: TestUser;
  let ip = 0;
  const freshIp = () => `203.0.113.${++ip}`;

  beforeAll(async () => {
    app = await startTestApp({ AUTH_FAILURE_LIMIT: String(LIMIT), TRUST_PROXY: "1" });
    admin = await app.createUser("root@example.org", { isAdmin: true });
  });
  afterAll(async () => {
    await app.close();
  });

  test("an accented variant of an email is another address: alice's password does not log it in", async () => {
    const alice = await app.createUser("alice@example.org");
    for (const variant of ["alíce@example.org", "alîce@example.org", "àlice@example.org", "alice@exámple.org"]) {
      const result = await app.graphql(ME, undefined, from(freshIp(), basic(variant, alice.password)));
      expect(result.status).toBe(401);
      expect(errorCode(result)).toBe("UNAUTHENTICATED");
    }
    expect((await app.graphql(ME, undefined, from(freshIp(), basic(alice.email, alice.password)))).status).toBe(200);
  });

  test("case, surrounding spaces and compatibility forms (fullwidth letters) are the same address", async () => {
    const bob = await app.createUser("bob@example.org");
    for (const variant of ["BOB@Example.ORG", " bob@example.org ", "ｂｏｂ@ｅｘａｍｐｌｅ.ｏｒｇ"]) {
      const result = await app.graphql(ME, undefined, from(freshIp(), basic(variant, bob.password)));
      expect(result.status).toBe(200);
      expect(result.body.data.me).toEqual({ id: String(bob.id), email: "bob@example.org" });
    }
  });

  test("the per-account throttle counts the account that matched, whatever spelling of it was typed", async () => {
    const carol = await app.createUser("carol@example.org");
    const spellings = ["carol@example.org", "CAROL@example.org", "ｃａｒｏｌ@example.org", " Carol@Example.org", "cARol@example.org"];
    for (const spelling of spellings) {
      expect((await app.graphql(ME, undefined, from(freshIp(), basic(spelling, "wrong-password")))).status).toBe(401);
    }
    // Throttled as an account: the right password from a fresh IP, in any spelling, is refused.
    for (const spelling of ["carol@example.org", "ＣＡＲＯＬ@example.org"]) {
      const refused = await app.graphql(ME, undefined, from(freshIp(), basic(spelling, carol.password)));
      expect(refused.status).toBe(429);
      expect(errorCode(refused)).toBe("TOO_MANY_REQUESTS");
    }
    // An accented variant is not a way around it: it names no account at all.
    for (const variant of ["caról@example.org", "cärol@example.org"]) {
      expect((await app.graphql(ME, undefined, from(freshIp(), basic(variant, carol.password)))).status).toBe(401);
    }
  });

  test("createUser stores the canonical form, and an accented address is a separate account with its own password", async () => {
    const created = await app.graphql(CREATE, { input: { email: "  ÅNGSTRÖM@Example.org", password: "angstrom-Secret-1" } }, basic(admin.email, admin.password));
    expect(created.status).toBe(200);
    // "Å" typed as A + combining ring: NFKC composes it, so the stored form is one code point.
    expect(created.body.data.createUser.email).toBe("ångström@example.org");
    const decomposed = await app.graphql(ME, undefined, from(freshIp(), basic("A\u030ANGSTRO\u0308M@example.org", "angstrom-Secret-1")));
    expect(decomposed.status).toBe(200);
    const [row] = await app.db.dataSource.query("SELECT email FROM users WHERE id = ?", [Number(created.body.data.createUser.id)]);
    expect(row.email).toBe("ångström@example.org");

    const plain = await app.graphql(CREATE, { input: { email: "angstrom@example.org", password: "plain-ascii-Secret-2" } }, basic(admin.email, admin.password));
    expect(plain.status).toBe(200);
    expect(plain.body.data.createUser.id).not.toBe(created.body.data.createUser.id);
    expect((await app.graphql(ME, undefined, from(freshIp(), basic("angstrom@example.org", "angstrom-Secret-1")))).status).toBe(401);
    expect((await app.graphql(ME, undefined, from(freshIp(), basic("ångström@example.org", "plain-ascii-Secret-2")))).status).toBe(401);
    const own = await app.graphql(ME, undefined, from(freshIp(), basic("angstrom@example.org", "plain-ascii-Secret-2")));
    expect(own.body.data.me.email).toBe("angstrom@example.org");
  });

  test("a second user whose email differs only in case or width is refused as a duplicate", async () => {
    await app.createUser("dave@example.org");
    for (const email of ["DAVE@example.org", "ｄａｖｅ@example.org"]) {
      const result = await app.graphql(CREATE, { input: { email, password: "another-Secret-3" } }, basic(admin.email, admin.password));
      expect(result.status).toBe(400);
      expect(errorCode(result)).toBe("BAD_USER_INPUT");
    }
  });

  test("apiKeys(filter: { ownerEmail }) finds the owner by any spelling of the canonical form, not by an accented variant", async () => {
    const erin = await app.createUser("erin@example.org");
    await app.setKeysEnabled(true);
    await app.generateKey(erin);
    const query = "query ($email: String) { apiKeys(filter: { ownerEmail: $email }) { totalCount } }";
    const count = async (email: string) => (await app.graphql(query, { email }, basic(admin.email, admin.password))).body.data.apiKeys.totalCount;
    expect(await count("ERIN@example.org")).toBe(1);
    expect(await count("ｅｒｉｎ@example.org")).toBe(1);
    expect(await count("érin@example.org")).toBe(0);
  });
});
