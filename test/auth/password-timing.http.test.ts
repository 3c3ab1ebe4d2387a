import { PasswordHasher } from "../../src/auth/password-hasher";
import { basic, startTestApp, type TestApp } from "../support/app";

const ME = "{ me { email } }";
/** Not 10: the dummy hash used to be made at cost 10 whatever the users' cost was. */
const COST = 11;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
};

/** Issue 13.3: unknown emails answered in 57 ms, wrong passwords in 219 ms. */
describe("password logins take as long for an unknown email as for a wrong password", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ BCRYPT_COST: String(COST) });
  });
  afterAll(async () => {
    await app.close();
  });

  test("medians of 20 unknown-email and 20 wrong-password attempts are within 15% of each other", async () => {
    const user = await app.createUser("timed@example.org");
    const time = async (email: string) => {
      const started = process.hrtime.bigint();
      const result = await app.graphql(ME, undefined, basic(email, "not-the-password"));
      expect(result.status).toBe(401);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    await time("warm-up@example.org");
    const unknown: number[] = [];
    const wrong: number[] = [];
    // Interleaved, so a burst of load on the machine hits both series alike.
    for (let i = 0; i < 20; i++) {
      unknown.push(await time(`nobody-${i}@example.org`));
      wrong.push(await time(user.email));
    }
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(1 / 1.15);
    expect(ratio).toBeLessThan(1.15);
  }, 120_000);

  test("a login whose stored hash has an older cost replaces it with one of today's cost", async () => {
    const password = "old-cost-Secret-1";
    app.secrets.add(password);
    const hashedBefore = await new PasswordHasher(4).hash(password);
    await app.db.dataSource.query("INSERT INTO users (email, display_name, password_hash, is_admin, active, created_at) VALUES (?, NULL, ?, 0, 1, '2026-01-01 00:00:00.000')", ["legacy@example.org", hashedBefore]);
    const storedHash = async () => String((await app.db.dataSource.query("SELECT password_hash FROM users WHERE email = ?", ["legacy@example.org"]))[0].password_hash);

    expect((await app.graphql(ME, undefined, basic("legacy@example.org", "wrong-password"))).status).toBe(401);
    expect(await storedHash()).toBe(hashedBefore); // a wrong password proves nothing: no rehash

    expect((await app.graphql(ME, undefined, basic("legacy@example.org", password))).status).toBe(200);
    const upgraded = await storedHash();
    expect(upgraded).not.toBe(hashedBefore);
    expect(upgraded).toMatch(new RegExp(`^\\$2[aby]\\$${COST}\\$`));
    expect((await app.graphql(ME, undefined, basic("legacy@example.org", password))).status).toBe(200);
    expect(await storedHash()).toBe(upgraded); // current cost: left alone
  }, 60_000);
});
