import bcrypt from "bcrypt";
import { basic, startTestApp, type TestApp, type TestUser } from "../support/app";

/**
 * A password hash of an older (lower) bcrypt cost is replaced at the current cost by the next
 * login that proves the password; a rehash that fails never fails the login.
 */
describe("outdated password hashes are rehashed at login", () => {
  let app: TestApp;
  let alice: TestUser;
  const storedHash = async () => String((await app.db.dataSource.query("SELECT password_hash FROM users WHERE id = ?", [alice.id]))[0].password_hash);
  const login = () => app.graphql("{ me { email } }", undefined, basic(alice.email, alice.password));

  beforeAll(async () => {
    app = await startTestApp({ BCRYPT_COST: "5" });
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    await app.db.dataSource.query("UPDATE users SET password_hash = ? WHERE id = ?", [await bcrypt.hash(alice.password, 4), alice.id]);
  });
  afterAll(async () => {
    await app.close();
  });

  test("a login with the right password: 200, and the hash is now of the current cost", async () => {
    expect(await storedHash()).toMatch(/^\$2[ab]\$04\$/);
    expect((await login()).status).toBe(200);
    const rehashed = await storedHash();
    expect(rehashed).toMatch(/^\$2[ab]\$05\$/);
    await expect(bcrypt.compare(alice.password, rehashed)).resolves.toBe(true);
  });

  test("a wrong password rehashes nothing", async () => {
    const before = await storedHash();
    expect((await app.graphql("{ me { email } }", undefined, basic(alice.email, "not-her-password"))).status).toBe(401);
    expect(await storedHash()).toBe(before);
  });

  test("a rehash that fails: the login still succeeds, the failure is logged without the password, and the old hash stays", async () => {
    const before = await storedHash();
    const sqlite = app.db.kind === "sqlite";
    await app.db.dataSource.query(
      sqlite
        ? "CREATE TRIGGER refuse_rehash BEFORE UPDATE OF password_hash ON users BEGIN SELECT RAISE(ABORT, 'password hashes are read-only here'); END"
        : "CREATE TRIGGER refuse_rehash BEFORE UPDATE ON users FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'password hashes are read-only here'",
    );
    try {
      const logged = app.logLines.length;
      expect((await login()).status).toBe(200);
      expect(await storedHash()).toBe(before);
      const warnings = app.logLines.slice(logged).filter((line) => line.includes("could not rehash an outdated password hash"));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0])).toMatchObject({ level: 40, userId: alice.id, err: { message: expect.stringContaining("read-only here") } });
      expect(warnings[0]).not.toContain(alice.password);
    } finally {
      await app.db.dataSource.query("DROP TRIGGER refuse_rehash");
    }
  });
});
