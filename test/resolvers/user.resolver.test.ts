import bcrypt from "bcrypt";
import { PasswordHasher } from "../../src/auth/password-hasher";
import { loadConfig } from "../../src/config";
import { UserService } from "../../src/services/user.service";
import { basic, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const CREATE = "mutation($input: CreateUserInput!) { createUser(input: $input) { id email displayName isAdmin active createdAt } }";
const SET_ACTIVE = "mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { id active } }";

describe("user resolver", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  const as = (user: TestUser) => basic(user.email, user.password);

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  test("me: the authenticated user, without any password field", async () => {
    const result = await app.graphql("{ me { id email displayName isAdmin active createdAt } }", undefined, as(alice));
    expect(result.body.data.me).toMatchObject({ id: String(alice.id), email: alice.email, isAdmin: false, active: true });
  });

  test("createUser (admin): the new user can log in; email stored lower-case", async () => {
    const password = "a new password!";
    app.secrets.add(password);
    const result = await app.graphql(CREATE, { input: { email: " Carol@Example.ORG ", password, displayName: " Carol " } }, as(admin));
    expect(result.body.data.createUser).toMatchObject({ email: "carol@example.org", displayName: "Carol", isAdmin: false, active: true });
    const me = await app.graphql("{ me { email } }", undefined, basic("carol@example.org", password));
    expect(me.body.data.me.email).toBe("carol@example.org");
  });

  test("createUser: the password is stored as a bcrypt hash only", async () => {
    const password = "stored-as-hash-only";
    app.secrets.add(password);
    await app.graphql(CREATE, { input: { email: "dave@example.org", password } }, as(admin));
    const [row] = await app.db.dataSource.query("SELECT password_hash FROM users WHERE email = ?", ["dave@example.org"]);
    expect(row.password_hash).toMatch(/^\$2[aby]\$\d\d\$/);
    expect(JSON.stringify(await app.db.dataSource.query("SELECT * FROM users"))).not.toContain(password);
    await expect(bcrypt.compare(password, row.password_hash)).resolves.toBe(true);
  });

  test("production bcrypt cost is at least 10, and passwords are hashed at the configured cost", async () => {
    const { bcryptCost } = loadConfig({});
    expect(bcryptCost).toBeGreaterThanOrEqual(10);
    const created = await new UserService(app.db.dataSource, app.services.audit, app.services.revocations, new PasswordHasher(bcryptCost)).create({ email: "cost@example.org", password: "cost check password" });
    expect(Number(created.passwordHash.split("$")[2])).toBe(bcryptCost);
  });

  test("createUser: a duplicate email in any case is BAD_USER_INPUT", async () => {
    const result = await app.graphql(CREATE, { input: { email: "ALICE@example.org", password: "another password" } }, as(admin));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
  });

  test("createUser: concurrent creations of one email make one user", async () => {
    const input = { email: "race@example.org", password: "race password 1" };
    app.secrets.add(input.password);
    const results = await Promise.all([1, 2, 3].map(() => app.graphql(CREATE, { input }, as(admin))));
    expect(results.filter((r) => r.body.data?.createUser).length).toBe(1);
    expect(results.filter((r) => errorCode(r) === "BAD_USER_INPUT").length).toBe(2);
  });

  test.each([
    ["a bad email", { email: "not-an-email", password: "long enough pw" }],
    ["a short password", { email: "x@example.org", password: "short" }],
    ["a password over 72 bytes", { email: "x@example.org", password: "ü".repeat(37) }],
    ["a display name over 100 characters", { email: "x@example.org", password: "long enough pw", displayName: "n".repeat(101) }],
  ])("createUser with %s: BAD_USER_INPUT, nothing created", async (_name, input) => {
    const result = await app.graphql(CREATE, { input }, as(admin));
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(JSON.stringify(result.body)).not.toContain(input.password);
    expect(await app.db.dataSource.query("SELECT id FROM users WHERE email = ?", ["x@example.org"])).toEqual([]);
  });

  test("createUser with an unknown input field: BAD_USER_INPUT that does not echo the password", async () => {
    const password = "echo-me-not-please";
    const result = await app.graphql(CREATE, { input: { email: "y@example.org", password, role: "ROOT" } }, as(admin));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(JSON.stringify(result.body)).not.toContain(password);
  });

  test("createUser and setUserActive by a non-admin: FORBIDDEN", async () => {
    expect((await app.graphql(CREATE, { input: { email: "z@example.org", password: "long enough pw" } }, as(alice))).status).toBe(403);
    expect((await app.graphql(SET_ACTIVE, { id: String(admin.id), active: false }, as(alice))).status).toBe(403);
  });

  test("setUserActive: unknown id is NOT_FOUND; an admin cannot deactivate their own account", async () => {
    expect(errorCode(await app.graphql(SET_ACTIVE, { id: "424242", active: false }, as(admin)))).toBe("NOT_FOUND");
    expect(errorCode(await app.graphql(SET_ACTIVE, { id: "x", active: false }, as(admin)))).toBe("NOT_FOUND");
    expect(errorCode(await app.graphql(SET_ACTIVE, { id: String(admin.id), active: false }, as(admin)))).toBe("BAD_USER_INPUT");
  });

  test("first start: the initial admin comes from ADMIN_EMAIL/ADMIN_PASSWORD, only when there is no user", async () => {
    await app.db.reset();
    const created = await app.services.users.ensureInitialAdmin("root@example.org", "initial admin pw");
    app.secrets.add("initial admin pw");
    expect(created).toMatchObject({ created: true, generatedPassword: null, user: { email: "root@example.org", isAdmin: true } });
    expect(await app.services.users.ensureInitialAdmin("other@example.org", "other admin pw")).toEqual({ created: false });
  });

  test("first start without ADMIN_PASSWORD: admin@localhost with a generated password that works", async () => {
    await app.db.reset();
    const created = await app.services.users.ensureInitialAdmin(undefined, undefined);
    if (!created.created || !created.generatedPassword) throw new Error("expected a generated admin");
    app.secrets.add(created.generatedPassword);
    expect(created.generatedPassword.length).toBeGreaterThanOrEqual(20);
    const me = await app.graphql("{ me { email isAdmin } }", undefined, basic("admin@localhost", created.generatedPassword));
    expect(me.body.data.me).toEqual({ email: "admin@localhost", isAdmin: true });
  });
});

describe("user deletion", () => {
  test("deleting a user deletes their keys (foreign key cascade, on both databases)", async () => {
    const app = await startTestApp();
    try {
      const bob = await app.createUser("bob@example.org");
      await app.setKeysEnabled(true);
      const { key } = await app.generateKey(bob);
      await app.db.dataSource.query("DELETE FROM users WHERE id = ?", [bob.id]);
      expect(await app.db.dataSource.query("SELECT id FROM api_keys")).toEqual([]);
      expect((await app.graphql("{ me { id } }", undefined, { basic: ["apikey", key] })).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});
