import bcrypt from "bcrypt";
import http from "node:http";
import { basic, type Credentials, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

const ME = "{ me { email } }";
const LIMIT = 5;

/** Requests claim a client IP through X-Forwarded-For, which TRUST_PROXY=1 makes the app believe. */
const from = (ip: string, credentials: Credentials = {}): Credentials => ({ ...credentials, headers: { ...(credentials.headers ?? {}), "x-forwarded-for": ip } });

describe("brute-force throttling", () => {
  let app: TestApp;
  let alice: TestUser;
  let aliceKey: string;
  let ipCounter = 0;
  let userCounter = 0;
  const freshIp = () => `198.51.100.${++ipCounter}`;
  /** Password failures also count per account: each test uses its own accounts. */
  const freshUser = () => app.createUser(`user${++userCounter}@example.org`);

  beforeAll(async () => {
    app = await startTestApp({ AUTH_FAILURE_LIMIT: String(LIMIT), AUTH_FAILURE_WINDOW_SECONDS: "60", TRUST_PROXY: "1" });
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
    aliceKey = (await app.generateKey(alice)).key;
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  async function fail(ip: string, times: number, credentials: Credentials = viaKey("xta_not-a-real-key")) {
    for (let i = 0; i < times; i++) {
      const result = await app.graphql(ME, undefined, from(ip, credentials));
      expect(result.status).toBe(401);
    }
  }

  test("over the limit from one IP: 429 TOO_MANY_REQUESTS with Retry-After", async () => {
    const ip = freshIp();
    await fail(ip, LIMIT);
    const result = await app.graphql(ME, undefined, from(ip, viaKey("xta_still-guessing")));
    expect(result.status).toBe(429);
    expect(Number(result.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(result.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(result.body.errors![0].extensions).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect(result.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("throttled IP: a valid key still passes (a NAT shared with an attacker)", async () => {
    const ip = freshIp();
    await fail(ip, LIMIT);
    expect((await app.graphql(ME, undefined, from(ip, basic(alice.email, "wrong-password")))).status).toBe(429);
    const result = await app.graphql(ME, undefined, from(ip, viaKey(aliceKey)));
    expect(result.status).toBe(200);
    expect(result.body.data.me.email).toBe(alice.email);
    const viaHeader = await app.graphql(ME, undefined, from(ip, { apikey: aliceKey }));
    expect(viaHeader.status).toBe(200);
  });

  test("throttled IP: even the right password is refused, and bcrypt does not run", async () => {
    const ip = freshIp();
    const bob = await freshUser();
    await fail(ip, LIMIT, basic(bob.email, "wrong-password"));
    const compare = jest.spyOn(bcrypt, "compare");
    try {
      for (let i = 0; i < 20; i++) {
        const result = await app.graphql(ME, undefined, from(ip, basic(bob.email, i === 19 ? bob.password : `guess-${i}`)));
        expect(result.status).toBe(429);
      }
      expect(compare).not.toHaveBeenCalled();
    } finally {
      compare.mockRestore();
    }
  });

  test("other IPs are unaffected by one IP's failures", async () => {
    const bob = await freshUser();
    const attacker = freshIp();
    await fail(attacker, LIMIT);
    expect((await app.graphql(ME, undefined, from(attacker, viaKey("xta_x")))).status).toBe(429);
    const other = freshIp();
    expect((await app.graphql(ME, undefined, from(other, basic(bob.email, bob.password)))).status).toBe(200);
    expect((await app.graphql(ME, undefined, from(other, viaKey(aliceKey)))).status).toBe(200);
    // A wrong key from the other IP is an ordinary 401, not 429.
    expect((await app.graphql(ME, undefined, from(other, viaKey("xta_x")))).status).toBe(401);
  });

  test("per account: password failures spread over many IPs pause that account's password logins only", async () => {
    const carol = await app.createUser("carol@example.org");
    for (let i = 0; i < LIMIT; i++) {
      expect((await app.graphql(ME, undefined, from(freshIp(), basic(i % 2 ? "CAROL@example.org" : carol.email, `guess-${i}`)))).status).toBe(401);
    }
    const elsewhere = freshIp();
    const refused = await app.graphql(ME, undefined, from(elsewhere, basic(carol.email, carol.password)));
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0].extensions!.code).toBe("TOO_MANY_REQUESTS");
    // Another account from the same fresh IP still logs in.
    const bob = await freshUser();
    expect((await app.graphql(ME, undefined, from(elsewhere, basic(bob.email, bob.password)))).status).toBe(200);
  });

  test("malformed credentials count as failures too", async () => {
    const ip = freshIp();
    for (let i = 0; i < LIMIT; i++) {
      expect((await app.graphql(ME, undefined, from(ip, { headers: { authorization: "Bearer nonsense" } }))).status).toBe(401);
    }
    expect((await app.graphql(ME, undefined, from(ip, { headers: { authorization: "Bearer nonsense" } }))).status).toBe(429);
  });

  test("anonymous requests are never throttled (they carry no credential to guess)", async () => {
    const ip = freshIp();
    await fail(ip, LIMIT);
    const result = await app.graphql("{ externalToolSettings { apiKeysEnabled } }", undefined, from(ip));
    expect(result.status).toBe(200);
  });

  test("alias batching does not multiply attempts: one request is one attempt whatever its aliases", async () => {
    const ip = freshIp();
    const bob = await freshUser();
    const aliased = `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: me { email }`).join(" ")} }`;
    for (let i = 0; i < LIMIT - 1; i++) {
      expect((await app.graphql(aliased, undefined, from(ip, basic(bob.email, `guess-${i}`)))).status).toBe(401);
    }
    // LIMIT-1 requests with 10 aliases each counted as LIMIT-1 failures, not 10x: one more attempt is allowed.
    expect((await app.graphql(ME, undefined, from(ip, basic(bob.email, bob.password)))).status).toBe(200);
  });

  test("a real second source address (127.0.0.2, no X-Forwarded-For) has its own counter", async () => {
    const bob = await freshUser();
    // 127.0.0.1 itself: exhaust it (no X-Forwarded-For, so the peer address counts).
    for (let i = 0; i < LIMIT; i++) await app.graphql(ME, undefined, viaKey("xta_x"));
    expect((await app.graphql(ME, undefined, viaKey("xta_x"))).status).toBe(429);
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        { host: "127.0.0.1", port: app.port, path: "/graphql", method: "POST", localAddress: "127.0.0.2", headers: { "content-type": "application/json", authorization: "Basic " + Buffer.from(`${bob.email}:${bob.password}`).toString("base64") } },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        },
      );
      request.on("error", reject);
      request.end(JSON.stringify({ query: ME }));
    });
    expect(status).toBe(200);
  });
});

describe("throttle window", () => {
  let app: TestApp;
  let now = Date.parse("2030-01-01T00:00:00Z");
  beforeAll(async () => {
    app = await startTestApp({ AUTH_FAILURE_LIMIT: "2", AUTH_FAILURE_WINDOW_SECONDS: "1" }, { clock: () => now });
  });
  afterAll(async () => {
    await app.close();
  });

  test("blocked until the window ends, to the millisecond; then the IP may try again", async () => {
    const user = await app.createUser("erin@example.org");
    for (let i = 0; i < 2; i++) expect((await app.graphql(ME, undefined, basic(user.email, "wrong-password"))).status).toBe(401);
    const blocked = await app.graphql(ME, undefined, basic(user.email, user.password));
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("1");
    now += 999;
    expect((await app.graphql(ME, undefined, basic(user.email, user.password))).status).toBe(429);
    now += 1;
    expect((await app.graphql(ME, undefined, basic(user.email, user.password))).status).toBe(200);
  });
});
