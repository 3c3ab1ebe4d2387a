import { DeviceCookies } from "../../../src/auth/device-cookies";
import { countQueries } from "../../../src/db/query-counter";
import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../../support/app";

/**
 * Login sessions over real HTTP: the cookie's attributes, what a cookie may do, CSRF and
 * cross-origin refusals, logout, expiry with short settings, session keys, admin listing.
 */
interface Answer {
  status: number;
  headers: Headers;
  body: any;
  setCookies: string[];
}

class Browser {
  /** name -> value, as a browser's jar would keep them. */
  readonly jar = new Map<string, string>();
  constructor(
    private readonly app: TestApp,
    private readonly defaults: Record<string, string> = {},
  ) {}

  get cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async graphql(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(this.app.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.defaults, ...(this.jar.size ? { cookie: this.cookieHeader } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    this.app.responses.push({ query, body: text });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (/Max-Age=0/.test(line)) this.jar.delete(name);
      else {
        this.jar.set(name, value);
        this.app.secrets.add(value);
      }
    }
    return { status: response.status, headers: response.headers, body: JSON.parse(text), setCookies };
  }

  login(user: TestUser, password = user.password): Promise<Answer> {
    return this.graphql("mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { id email } }", { email: user.email, password });
  }

  me(headers: Record<string, string> = {}): Promise<Answer> {
    return this.graphql("{ me { id email } }", undefined, headers);
  }
}

describe("login sessions over HTTP", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;

  beforeAll(async () => {
    app = await startTestApp({ CORS_ORIGINS: "https://app.example.org" });
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
  });
  afterAll(async () => {
    app.assertNoSecretLeaks();
    await app.close();
  });

  test("login sets an HttpOnly, SameSite=Lax session cookie (not Secure over plain HTTP) and a device cookie", async () => {
    const browser = new Browser(app);
    const answer = await browser.login(alice);
    expect(answer.status).toBe(200);
    expect(answer.body.data.login).toEqual({ id: String(alice.id), email: alice.email });
    const session = answer.setCookies.find((line) => line.startsWith("xta_session="))!;
    expect(session).toMatch(/^xta_session=xtc_[0-9A-Za-z]{57}; Path=\/; HttpOnly; SameSite=Lax$/);
    const device = answer.setCookies.find((line) => line.startsWith("xta_device="))!;
    expect(device).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  });

  test("me and mutations work from the cookie alone", async () => {
    const browser = new Browser(app);
    await browser.login(alice);
    const me = await browser.me();
    expect(me.status).toBe(200);
    expect(me.body.data.me.email).toBe(alice.email);
    await app.setKeysEnabled(true);
    const generated = await browser.graphql('mutation { generateApiKey(description: "from the browser") { key apiKey { id } } }');
    expect(generated.status).toBe(200);
    app.secrets.add(generated.body.data.generateApiKey.key);
    expect((await app.graphql("{ me { email } }", undefined, viaKey(generated.body.data.generateApiKey.key))).body.data.me.email).toBe(alice.email);
  });

  test("wrong password: 401, no session cookie, a failure in the audit trail", async () => {
    const browser = new Browser(app);
    const answer = await browser.login(alice, "not-the-password");
    expect(answer.status).toBe(401);
    expect(errorCode(answer as any)).toBe("UNAUTHENTICATED");
    expect(answer.body.errors[0].message).toBe("User does not have permission to perform this operation.");
    expect(answer.setCookies).toEqual([]);
    // A browser must not be shown a Basic-auth dialog for a failed login.
    expect(answer.headers.get("www-authenticate")).toBeNull();
    await app.services.audit.flushFailures();
    const [row] = await app.db.dataSource.query("SELECT detail FROM audit_events WHERE action = 'AUTHENTICATION_FAILED' AND actor_id = ?", [alice.id]);
    expect(row.detail).toContain("method=login");
  });

  test("logout clears the cookie and ends the session: the old cookie is refused everywhere", async () => {
    const browser = new Browser(app);
    await browser.login(alice);
    const stolen = browser.cookieHeader;
    const out = await browser.graphql("mutation { logout }");
    expect(out.body.data.logout).toBe(true);
    expect(out.setCookies.some((line) => /^xta_session=; .*Max-Age=0/.test(line))).toBe(true);
    const replay = await new Browser(app).me({ cookie: stolen });
    expect(replay.status).toBe(401);
    // The refusal also clears the cookie, so the browser stops sending it.
    expect(replay.setCookies.some((line) => /^xta_session=; .*Max-Age=0/.test(line))).toBe(true);
    expect((await browser.graphql("mutation { logout }")).body.data.logout).toBe(false);
  });

  test("login and logout are audit events", async () => {
    const browser = new Browser(app);
    await browser.login(alice);
    await browser.graphql("mutation { logout }");
    const events = await app.graphql("{ auditEvents(first: 10, filter: { actorEmail: \"alice@example.org\" }) { nodes { action } } }", undefined, basic(admin.email, admin.password));
    const actions = events.body.data.auditEvents.nodes.map((n: { action: string }) => n.action);
    expect(actions).toEqual(expect.arrayContaining(["USER_LOGGED_IN", "USER_LOGGED_OUT"]));
  });

  describe("CSRF: Apollo's csrfPrevention stays on", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = new Browser(app);
      await browser.login(alice);
    });
    const send = (contentType: string, body: string) =>
      fetch(app.url, { method: "POST", headers: { "content-type": contentType, cookie: browser.cookieHeader, origin: "https://evil.example" }, body });

    test("a cross-site simple POST (text/plain) with the cookie is refused", async () => {
      const response = await send("text/plain", JSON.stringify({ query: 'mutation { generateApiKey(description: "csrf") { key } }' }));
      expect(response.status).toBe(400);
      expect(await response.text()).not.toContain("xta_");
    });

    test("a form post (urlencoded and multipart) with the cookie is refused", async () => {
      expect((await send("application/x-www-form-urlencoded", "query=mutation%20%7B%20logout%20%7D")).status).toBe(400);
      expect((await send("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\nmutation { logout }\r\n--x--')).status).toBe(400);
    });

    test("a GET without a preflight header is refused (no mutation by link)", async () => {
      const response = await fetch(`${app.url}?query=${encodeURIComponent("{ me { email } }")}`, { headers: { cookie: browser.cookieHeader } });
      expect(response.status).toBe(400);
    });

    test("the session survived every refused attempt", async () => {
      expect((await browser.me()).status).toBe(200);
    });
  });

  describe("cross-origin requests", () => {
    test("from an origin not in CORS_ORIGINS the cookie is ignored (401 as anonymous), with no CORS grant", async () => {
      const browser = new Browser(app);
      await browser.login(alice);
      const answer = await browser.me({ origin: "https://evil.example" });
      expect(answer.status).toBe(401);
      expect(answer.body.errors[0].extensions.reason).toBe("MISSING");
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    });

    test("from a listed origin the cookie counts, with credentials allowed for that origin only", async () => {
      const browser = new Browser(app);
      await browser.login(alice);
      const answer = await browser.me({ origin: "https://app.example.org" });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("access-control-allow-origin")).toBe("https://app.example.org");
      expect(answer.headers.get("access-control-allow-credentials")).toBe("true");
    });

    test("the server's own origin counts", async () => {
      const browser = new Browser(app);
      await browser.login(alice);
      expect((await browser.me({ origin: `http://127.0.0.1:${app.port}` })).status).toBe(200);
    });
  });

  describe("session keys", () => {
    test("only from a cookie session, only while sessionKeysEnabled; works like an API key; never listed or counted", async () => {
      const browser = new Browser(app);
      await browser.login(alice);
      await app.services.settings.update({ sessionKeysEnabled: false });
      const disabled = await browser.graphql('mutation { generateSessionKey(description: "nb") }');
      expect(errorCode(disabled as any)).toBe("FORBIDDEN");

      await app.services.settings.update({ sessionKeysEnabled: true });
      const made = await browser.graphql('mutation { generateSessionKey(description: "notebook") }');
      const key: string = made.body.data.generateSessionKey;
      app.secrets.add(key);
      expect(key).toMatch(/^xts_[0-9A-Za-z]{57}$/);
      expect((await app.graphql("{ me { email } }", undefined, viaKey(key))).body.data.me.email).toBe(alice.email);
      expect((await app.graphql("{ me { email } }", undefined, { apikey: key })).status).toBe(200);
      // Each kind only where it belongs: a session key is no cookie, a cookie value no key.
      expect((await new Browser(app).me({ cookie: `xta_session=${key}` })).status).toBe(401);
      expect((await app.graphql("{ me { email } }", undefined, viaKey(browser.jar.get("xta_session")!))).status).toBe(401);

      // Not from a password, an API key or a session key.
      expect(errorCode(await app.graphql("mutation { generateSessionKey }", undefined, basic(alice.email, alice.password)))).toBe("FORBIDDEN");
      expect(errorCode(await app.graphql("mutation { generateSessionKey }", undefined, viaKey(key)))).toBe("FORBIDDEN");

      const listed = await app.graphql("{ myApiKeys { hint description } }", undefined, viaKey(key));
      expect(JSON.stringify(listed.body.data.myApiKeys)).not.toMatch(/xts_|notebook/);
      const all = await app.graphql("{ apiKeys(first: 100) { nodes { hint description } totalCount } }", undefined, basic(admin.email, admin.password));
      expect(JSON.stringify(all.body)).not.toMatch(/xts_|notebook/);
      const [{ n: apiKeyCount }] = await app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys");
      const [{ n }] = await app.db.dataSource.query("SELECT COUNT(*) AS n FROM session_keys");
      expect(Number(n)).toBeGreaterThan(0);
      const revokedCount = (await app.graphql("mutation { revokeAllApiKeys }", undefined, basic(admin.email, admin.password))).body.data.revokeAllApiKeys;
      expect(revokedCount).toBe(Number(apiKeyCount));
      // revokeAllApiKeys leaves session keys alone: they live and die with their session.
      expect((await app.graphql("{ me { email } }", undefined, viaKey(key))).status).toBe(200);

      // A session key cannot log its browser out; the cookie can, and takes the key with it.
      expect((await app.graphql("mutation { logout }", undefined, viaKey(key))).body.data.logout).toBe(false);
      expect((await browser.me()).status).toBe(200);
      await browser.graphql("mutation { logout }");
      expect((await app.graphql("{ me { email } }", undefined, viaKey(key))).status).toBe(401);
      const [{ n: left }] = await app.db.dataSource.query("SELECT COUNT(*) AS n FROM session_keys");
      expect(Number(left)).toBe(0);
    });
  });

  describe("listing and ending sessions", () => {
    test("admin lists a user's sessions and ends them; the user can end their other sessions", async () => {
      const bob = await app.createUser("bob@example.org");
      const laptop = new Browser(app, { "user-agent": "laptop" });
      const phone = new Browser(app, { "user-agent": "phone" });
      await laptop.login(bob);
      await phone.login(bob);
      const mine = await laptop.graphql("{ mySessions { id current userAgent ip lastSeenAt expiresAt createdAt } }");
      expect(mine.body.data.mySessions).toHaveLength(2);
      expect(mine.body.data.mySessions.filter((s: { current: boolean }) => s.current).map((s: { userAgent: string }) => s.userAgent)).toEqual(["laptop"]);
      expect(JSON.stringify(mine.body)).not.toMatch(/xtc_|token/i);

      expect((await laptop.graphql("mutation { endMyOtherSessions }")).body.data.endMyOtherSessions).toBe(1);
      expect((await phone.me()).status).toBe(401);
      expect((await laptop.me()).status).toBe(200);

      const adminView = await app.graphql(`{ sessions(userId: "${bob.id}") { id userAgent } }`, undefined, basic(admin.email, admin.password));
      expect(adminView.body.data.sessions.map((s: { userAgent: string }) => s.userAgent)).toEqual(["laptop"]);
      expect(errorCode(await laptop.graphql(`{ sessions(userId: "${bob.id}") { id } }`))).toBe("FORBIDDEN");
      const ended = await app.graphql(`mutation { endSessions(userId: "${bob.id}") }`, undefined, basic(admin.email, admin.password));
      expect(ended.body.data.endSessions).toBe(1);
      expect((await laptop.me()).status).toBe(401);
    });

    test("endMySession ends one of my sessions and its session keys; another user's session is NOT_FOUND and lives on", async () => {
      await app.services.settings.update({ sessionKeysEnabled: true });
      const erin = await app.createUser("erin@example.org");
      const frank = await app.createUser("frank@example.org");
      const desk = new Browser(app, { "user-agent": "desk" });
      const tablet = new Browser(app, { "user-agent": "tablet" });
      const franks = new Browser(app, { "user-agent": "franks" });
      await desk.login(erin);
      await tablet.login(erin);
      await franks.login(frank);
      const tabletKey: string = (await tablet.graphql("mutation { generateSessionKey }")).body.data.generateSessionKey;
      app.secrets.add(tabletKey);
      const listed = (await desk.graphql("{ mySessions { id userAgent } }")).body.data.mySessions as Array<{ id: string; userAgent: string }>;
      const tabletId = listed.find((s) => s.userAgent === "tablet")!.id;
      const franksId = (await franks.graphql("{ mySessions { id } }")).body.data.mySessions[0].id as string;

      const foreign = await desk.graphql("mutation ($id: ID!) { endMySession(id: $id) }", { id: franksId });
      expect(errorCode(foreign)).toBe("NOT_FOUND");
      expect((await franks.me()).status).toBe(200);
      expect(errorCode(await desk.graphql('mutation { endMySession(id: "not-an-id") }'))).toBe("BAD_USER_INPUT");

      expect((await desk.graphql("mutation ($id: ID!) { endMySession(id: $id) }", { id: tabletId })).body.data.endMySession).toBe(true);
      expect((await tablet.me()).status).toBe(401);
      expect((await app.graphql("{ me { email } }", undefined, viaKey(tabletKey))).status).toBe(401);
      expect((await desk.me()).status).toBe(200);
      expect(errorCode(await desk.graphql("mutation ($id: ID!) { endMySession(id: $id) }", { id: tabletId }))).toBe("NOT_FOUND");
      const [{ n: audited }] = await app.db.dataSource.query("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'SESSIONS_ENDED' AND actor_id = ?", [erin.id]);
      expect(Number(audited)).toBe(1);
    });

    test("a password change from a cookie session keeps that session and ends the others; deleting the user ends the rest", async () => {
      const dave = await app.createUser("dave@example.org");
      const here = new Browser(app);
      const elsewhere = new Browser(app);
      await here.login(dave);
      await elsewhere.login(dave);
      const newPassword = "a-New-Secret-for-dave-2026";
      app.secrets.add(newPassword);
      const changed = await here.graphql("mutation ($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }", { c: dave.password, n: newPassword });
      expect(changed.body.data?.changeMyPassword).toBe(true);
      expect((await here.me()).status).toBe(200);
      expect((await elsewhere.me()).status).toBe(401);
      await app.graphql(`mutation { deleteUser(id: "${dave.id}") }`, undefined, basic(admin.email, admin.password));
      expect((await here.me()).status).toBe(401);
      expect(await app.db.dataSource.query("SELECT id FROM sessions WHERE user_id = ?", [dave.id])).toEqual([]);
    });

    test("deactivating a user ends their sessions at once", async () => {
      const carol = await app.createUser("carol@example.org");
      const browser = new Browser(app);
      await browser.login(carol);
      expect((await browser.me()).status).toBe(200);
      await app.graphql(`mutation { setUserActive(id: "${carol.id}", active: false) { active } }`, undefined, basic(admin.email, admin.password));
      expect((await browser.me()).status).toBe(401);
      await app.graphql(`mutation { setUserActive(id: "${carol.id}", active: true) { active } }`, undefined, basic(admin.email, admin.password));
      expect((await browser.me()).status).toBe(401);
    });
  });
});

describe("cost of a cookie request", () => {
  test("a cached cookie request costs no SQL and no write", async () => {
    // A window long enough that a busy machine's late timers never let the cache go stale mid-test.
    const app = await startTestApp({ KEY_CACHE_WINDOW_MS: "2000" });
    try {
      const alice = await app.createUser("alice@example.org");
      const browser = new Browser(app);
      await browser.login(alice);
      await browser.me();
      const counter = countQueries(app.db.dataSource);
      for (let i = 0; i < 20; i++) expect((await browser.me()).status).toBe(200);
      expect(counter.snapshot()).toMatchObject({ statements: 0, writes: 0 });
    } finally {
      await app.close();
    }
  });
});

describe("cookies over HTTPS", () => {
  test("COOKIE_SECURE: Secure with the __Host- prefix, and only that name is read", async () => {
    const app = await startTestApp({ COOKIE_SECURE: "true" });
    try {
      const alice = await app.createUser("alice@example.org");
      const browser = new Browser(app);
      const answer = await browser.login(alice);
      expect(answer.setCookies.find((line) => line.startsWith("__Host-xta_session="))).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      expect(answer.setCookies.find((line) => line.startsWith("__Host-xta_device="))).toMatch(/; Secure; Max-Age=\d+$/);
      expect((await browser.me()).status).toBe(200);
      const token = browser.jar.get("__Host-xta_session")!;
      expect((await new Browser(app).me({ cookie: `xta_session=${token}` })).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  test("HTTPS through a trusted proxy (X-Forwarded-Proto) makes them Secure; the same header from an untrusted client does not", async () => {
    const app = await startTestApp({ TRUST_PROXY: "1" });
    try {
      const alice = await app.createUser("alice@example.org");
      const proxied = await new Browser(app, { "x-forwarded-proto": "https" }).login(alice);
      expect(proxied.setCookies.some((line) => line.startsWith("__Host-xta_session=") && line.endsWith("Secure"))).toBe(true);
    } finally {
      await app.close();
    }
    const direct = await startTestApp();
    try {
      const alice = await direct.createUser("alice@example.org");
      const answer = await new Browser(direct, { "x-forwarded-proto": "https" }).login(alice);
      expect(answer.setCookies.some((line) => line.startsWith("xta_session=") && !/Secure/.test(line))).toBe(true);
    } finally {
      await direct.close();
    }
  });
});

/** The default lifetimes, on a clock the tests move. */
describe("expiry", () => {
  let app: TestApp;
  let alice: TestUser;
  let now = Date.now();
  let idleMs: number;
  let maxMs: number;
  beforeAll(async () => {
    app = await startTestApp({}, { clock: () => now });
    ({ idleTimeoutMs: idleMs, maxLifetimeMs: maxMs } = app.config.sessions);
    alice = await app.createUser("alice@example.org");
    await app.services.settings.update({ sessionKeysEnabled: true });
  });
  afterAll(() => app.close());

  test("idle: a session unused for the idle timeout is refused (EXPIRED) and its cookie cleared; a millisecond less is not", async () => {
    const browser = new Browser(app);
    await browser.login(alice);
    now += idleMs - 1;
    expect((await browser.me()).status).toBe(200); // a use: the idle time starts again
    now += idleMs - 1;
    expect((await browser.me()).status).toBe(200);
    now += idleMs;
    const answer = await browser.me();
    expect(answer.status).toBe(401);
    expect(answer.body.errors[0].extensions.reason).toBe("EXPIRED");
    expect(browser.jar.size).toBe(1); // only the device cookie is left
  });

  test("a session key's use keeps its session from going idle", async () => {
    const browser = new Browser(app);
    await browser.login(alice);
    const key: string = (await browser.graphql("mutation { generateSessionKey }")).body.data.generateSessionKey;
    app.secrets.add(key);
    for (let i = 0; i < 3; i++) {
      now += idleMs - 1;
      expect((await app.graphql("{ me { id } }", undefined, viaKey(key))).status).toBe(200);
    }
    expect((await browser.me()).status).toBe(200);
    now += idleMs; // then unused for the idle timeout: ended, the key with it
    expect([(await browser.me()).status, (await app.graphql("{ me { id } }", undefined, viaKey(key))).status]).toEqual([401, 401]);
  });

  test("absolute: a session in constant use still ends at the maximum, and its session keys with it", async () => {
    const browser = new Browser(app);
    await browser.login(alice);
    const key: string = (await browser.graphql("mutation { generateSessionKey }")).body.data.generateSessionKey;
    app.secrets.add(key);
    const loggedIn = now;
    while (now + idleMs / 2 < loggedIn + maxMs) {
      now += idleMs / 2;
      expect((await app.graphql("{ me { id } }", undefined, viaKey(key))).status).toBe(200);
    }
    now = loggedIn + maxMs - 1;
    expect([(await app.graphql("{ me { id } }", undefined, viaKey(key))).status, (await browser.me()).status]).toEqual([200, 200]);
    now += 1;
    const refused = await app.graphql("{ me { id } }", undefined, viaKey(key));
    expect({ status: refused.status, reason: refused.body.errors?.[0]?.extensions?.reason }).toEqual({ status: 401, reason: "EXPIRED" });
    expect((await browser.me()).status).toBe(401);
  });
});

describe("failed logins: the brute-force throttle and device cookies (OWASP)", () => {
  let app: TestApp;
  let alice: TestUser;
  let mallory: TestUser;
  let owner: Browser;
  /** Signs as the server does: the secret is the database's, shared by every instance. */
  let devices: DeviceCookies;
  beforeAll(async () => {
    app = await startTestApp({ AUTH_FAILURE_LIMIT: "3", AUTH_FAILURE_WINDOW_SECONDS: "600" });
    devices = new DeviceCookies(app.db.dataSource, app.config.sessions.deviceCookieLifetimeMs);
    owner = new Browser(app);
    alice = await app.createUser("alice@example.org");
    mallory = await app.createUser("mallory@example.org");
  });
  afterAll(() => app.close());

  test("the owner's browser logs in before the attack and keeps its device cookie", async () => {
    expect((await owner.login(alice)).status).toBe(200);
    expect(owner.jar.has("xta_device")).toBe(true);
  });

  test("an attacker's guesses get 429 with Retry-After once the limit is used up, even with the right password, before any SQL or bcrypt", async () => {
    const attacker = new Browser(app);
    for (let i = 0; i < 3; i++) expect((await attacker.login(alice, `guess-${i}-wrong`)).status).toBe(401);
    const counter = countQueries(app.db.dataSource);
    const throttled = await attacker.login(alice);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(errorCode(throttled as any)).toBe("TOO_MANY_REQUESTS");
    expect(counter.snapshot().statements).toBe(0);
    expect(throttled.setCookies).toEqual([]);
  });

  test("the owner's browser, with a valid device cookie for the account, still logs in", async () => {
    expect((await owner.login(alice)).status).toBe(200);
    const again = new Browser(app);
    again.jar.set("xta_device", owner.jar.get("xta_device")!);
    expect((await again.login(alice)).status).toBe(200);
  });

  test("a device cookie for another account does not help the attacker", async () => {
    const attacker = new Browser(app);
    // What mallory's own browser would hold after logging in to mallory's account.
    const cookie = await devices.issue(mallory.email);
    attacker.jar.set("xta_device", cookie);
    expect((await attacker.login(alice)).status).toBe(429);
    // For mallory's own account it is a valid device cookie: mallory is not locked out either.
    expect((await attacker.login(mallory)).status).toBe(200);
  });

  test("a stolen device cookie is throttled on its own counter: guesses with it lock out that cookie only", async () => {
    owner.jar.set("xta_device", await devices.issue(alice.email));
    const thief = new Browser(app);
    thief.jar.set("xta_device", await devices.issue(alice.email));
    for (let i = 0; i < 3; i++) expect((await thief.login(alice, `guess-${i}-wrong`)).status).toBe(401);
    expect((await thief.login(alice)).status).toBe(429);
    expect((await owner.login(alice)).status).toBe(200);
  });
});
