import type { UserService } from "../../src/services/user.service";
import { type ChildServer, startChildServer } from "../support/child-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { usersOf } from "../support/users";

const LIMIT = 4;
const ME = "{ me { email } }";

/**
 * Issue 13.5: each instance counted failures in its own memory, so N instances gave an attacker N
 * times the budget. Two real server processes on one database (MariaDB in the mariadb project).
 */
describe("the password throttle holds across instances", () => {
  let db: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  let users: UserService;
  let count = 0;
  const newUser = async () => {
    const user = { email: `shared${++count}@example.org`, password: `shared-Secret-${count}` };
    await users.create(user);
    return user;
  };
  const login = async (server: ChildServer, ip: string, email: string, password: string) => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": ip, authorization: "Basic " + Buffer.from(`${email}:${password}`).toString("base64") },
      body: JSON.stringify({ query: ME }),
    });
    await response.text();
    return response.status;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    users = usersOf(db.dataSource);
    // A user before either instance starts: with none, both would create the first admin at once.
    await newUser();
    const env = { DATABASE_URL: db.url, TRUST_PROXY: "1", AUTH_FAILURE_LIMIT: String(LIMIT), BCRYPT_COST: "4", BCRYPT_MAX_PER_CLIENT: "1000", BCRYPT_QUEUE_MAX: "1000" };
    [a, b] = await Promise.all([startChildServer(env), startChildServer(env)]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db.destroy();
  });

  test("failures on A and on B add up: at the limit, the right password is refused on both", async () => {
    const user = await newUser();
    for (let i = 0; i < LIMIT; i++) expect(await login(i % 2 ? b : a, "198.51.100.1", user.email, `guess-${i}`)).toBe(401);
    expect(await login(a, "198.51.100.1", user.email, user.password)).toBe(429);
    expect(await login(b, "198.51.100.1", user.email, user.password)).toBe(429);
  });

  test("per account across instances: guesses from many IPs on A and B pause the account on both", async () => {
    const user = await newUser();
    for (let i = 0; i < LIMIT; i++) expect(await login(i % 2 ? b : a, `198.51.100.${10 + i}`, user.email, `guess-${i}`)).toBe(401);
    expect(await login(b, "198.51.100.99", user.email, user.password)).toBe(429);
    expect(await login(a, "198.51.100.98", user.email, user.password)).toBe(429);
  });

  test("40 concurrent guesses split over both instances: at most LIMIT are evaluated in all", async () => {
    const user = await newUser();
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => login(i % 2 ? b : a, `203.0.113.${i}`, user.email, `guess-${i}`)));
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(LIMIT);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
  });

  test("successful logins give their place back: many in a row on both instances all succeed", async () => {
    const user = await newUser();
    for (let i = 0; i < LIMIT * 3; i++) expect(await login(i % 2 ? b : a, "198.51.100.200", user.email, user.password)).toBe(200);
  });

  test("the shared counters hold hashes of the subjects, never an address or an email", async () => {
    const rows: Array<Record<string, unknown>> = await db.dataSource.query("SELECT * FROM auth_attempts");
    expect(rows.length).toBeGreaterThan(0);
    const text = JSON.stringify(rows);
    expect(text).not.toMatch(/198\.51\.100|203\.0\.113|example\.org/);
  });
});
