import pino from "pino";
import { SessionAuthenticator, type SessionAuthResult } from "../../../src/auth/sessions/session-authenticator";
import { SessionCache } from "../../../src/auth/sessions/session-cache";
import { KeyTags } from "../../../src/keys/key-tags";
import { randomBytes } from "node:crypto";
import * as keyFormat from "../../../src/keys/api-key-format";
import { generateKey, hashApiKey, parseApiKey } from "../../../src/keys/api-key-format";
import { fromSqlDateTime } from "../../../src/db/data-source";
import { countQueries } from "../../../src/db/query-counter";
import { SYSTEM_ACTOR } from "../../../src/entities/audit-event.entity";
import { AuditService } from "../../../src/services/audit.service";
import { LastUsedRecorder } from "../../../src/keys/last-used-recorder";
import { RevocationEpoch } from "../../../src/keys/revocation-epoch";
import { MAX_SESSIONS_PER_USER, SessionService } from "../../../src/services/session.service";
import { SettingsService } from "../../../src/services/settings.service";
import { UserService } from "../../../src/services/user.service";
import { PasswordHasher } from "../../../src/services/password-hasher";
import { createTestDatabase, type TestDatabase } from "../../support/database";

const IDLE_MS = 30 * 60_000;
const MAX_MS = 12 * 3600_000;

/** Sessions against a real database, with a clock the test moves (no sleeping out a timeout). */
describe("sessions: lifecycle and authentication", () => {
  let db: TestDatabase;
  let clock: number;
  let sessions: SessionService;
  let auth: SessionAuthenticator;
  let revocations: RevocationEpoch;
  let activity: LastUsedRecorder;
  let cache: SessionCache;
  let settings: SettingsService;
  let users: UserService;
  let alice: { userId: number; email: string };
  const client = { ip: "203.0.113.7", userAgent: "jest" };

  beforeAll(async () => {
    db = await createTestDatabase();
    const silent = pino({ level: "silent" });
    clock = Date.parse("2026-11-30T10:00:00.000Z");
    const now = () => clock;
    const audit = new AuditService(db.dataSource, silent);
    settings = new SettingsService(db.dataSource, audit);
    revocations = new RevocationEpoch(db.dataSource, { windowMs: 2000, maxEntries: 100 }, silent);
    const keyTags = new KeyTags(db.dataSource);
    await keyTags.load();
    sessions = new SessionService(db.dataSource, keyTags, revocations, audit, settings, { idleTimeoutMs: IDLE_MS, maxLifetimeMs: MAX_MS }, now);
    users = new UserService(db.dataSource, audit, revocations, new PasswordHasher(4), sessions);
    activity = new LastUsedRecorder(db.dataSource, { minIntervalMs: 60_000, flushIntervalMs: 3600_000, target: { table: "sessions", column: "last_seen_at" } }, silent);
    cache = new SessionCache(revocations.cache, 100);
    auth = new SessionAuthenticator(db.dataSource, cache, keyTags, activity, { idleTimeoutMs: IDLE_MS }, now);
    revocations.start();
    await revocations.cache.poll();
    const user = await users.create({ email: "alice@example.org", password: "alice-Secret-1" });
    alice = { userId: user.id, email: user.email };
  });
  afterAll(async () => {
    await revocations.stop();
    await db.destroy();
  });

  const cookie = async (token: string): Promise<SessionAuthResult> => auth.authenticateCookie(token);

  test("a new session's cookie authenticates as its user; the database holds only its hash", async () => {
    const { token, session } = await sessions.start(alice, client);
    expect(token).toMatch(/^xtc_[0-9A-Za-z]{57}$/);
    const result = await cookie(token);
    expect(result).toMatchObject({ ok: true, identity: { userId: alice.userId, email: alice.email, method: "session", sessionId: session.id, keyId: null } });
    const rows = await db.dataSource.query("SELECT * FROM sessions");
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0].token_hash).toBe(hashApiKey(token));
  });

  test("a cached cookie costs no SQL and no write; activity is written behind", async () => {
    const { token, session } = await sessions.start(alice, client);
    await cookie(token); // reads and caches
    const counter = countQueries(db.dataSource);
    clock += 2 * 60_000;
    for (let i = 0; i < 20; i++) expect((await cookie(token)).ok).toBe(true);
    expect(counter.snapshot()).toMatchObject({ statements: 0, writes: 0 });
    expect(activity.pendingCount).toBeGreaterThan(0);
    await activity.flush();
    const [row] = await db.dataSource.query("SELECT last_seen_at FROM sessions WHERE id = ?", [session.id]);
    expect(fromSqlDateTime(row.last_seen_at)!.getTime()).toBe(clock);
  });

  test("made-up cookies (valid checksum, foreign tag) and malformed ones: refused without SQL", async () => {
    const counter = countQueries(db.dataSource);
    const { key: madeUp } = generateKey("cookie", randomBytes(32));
    expect(await cookie(madeUp)).toMatchObject({ ok: false, reason: "INVALID" });
    expect(await cookie("not-a-cookie")).toMatchObject({ ok: false, reason: "INVALID" });
    expect(counter.snapshot().statements).toBe(0);
  });

  test("idle timeout: a session unused for 30 minutes has ended; used within it, it lives on", async () => {
    const { token } = await sessions.start(alice, client);
    clock += IDLE_MS - 1000;
    expect((await cookie(token)).ok).toBe(true);
    clock += IDLE_MS - 1000;
    expect((await cookie(token)).ok).toBe(true);
    clock += IDLE_MS;
    expect(await cookie(token)).toMatchObject({ ok: false, reason: "EXPIRED" });
  });

  test("a session that looks idle here but was used elsewhere (in the database) is read again and accepted", async () => {
    const { token, session } = await sessions.start(alice, client);
    expect((await cookie(token)).ok).toBe(true);
    clock += IDLE_MS + 1000;
    await db.dataSource.query("UPDATE sessions SET last_seen_at = ? WHERE id = ?", [new Date(clock - 5000).toISOString().replace("T", " ").replace("Z", ""), session.id]);
    expect((await cookie(token)).ok).toBe(true);
  });

  test("absolute maximum: after 12 hours the session ends however busy", async () => {
    const { token } = await sessions.start(alice, client);
    const started = clock;
    while (clock + 20 * 60_000 < started + MAX_MS) {
      clock += 20 * 60_000;
      expect((await cookie(token)).ok).toBe(true);
    }
    clock = started + MAX_MS;
    expect(await cookie(token)).toMatchObject({ ok: false, reason: "EXPIRED" });
  });

  test("logout ends the session at once, though it was cached", async () => {
    const { token, session } = await sessions.start(alice, client);
    expect((await cookie(token)).ok).toBe(true);
    expect(await sessions.end(session.id, { ...alice, ip: client.ip })).toBe(true);
    expect(await cookie(token)).toMatchObject({ ok: false, reason: "INVALID" });
    expect(await sessions.end(session.id, { ...alice, ip: client.ip })).toBe(false);
  });

  test("a session key works while its session does and stops with it", async () => {
    await settings.update({ sessionKeysEnabled: true });
    const { token, session } = await sessions.start(alice, client);
    const key = await sessions.issueKey(session.id, { ...alice, ip: client.ip }, "notebook");
    expect(key).toMatch(/^xts_[0-9A-Za-z]{57}$/);
    const parsed = parseApiKey(key);
    if (!parsed.ok) throw new Error("unparseable session key");
    expect(parsed.kind).toBe("session");
    expect(await auth.authenticateKey(parsed, hashApiKey(key))).toMatchObject({ ok: true, identity: { method: "sessionkey", sessionId: session.id } });
    // The key's use keeps the session alive.
    clock += IDLE_MS - 1000;
    expect((await auth.authenticateKey(parsed, hashApiKey(key))).ok).toBe(true);
    clock += IDLE_MS - 1000;
    expect((await cookie(token)).ok).toBe(true);
    await sessions.end(session.id, SYSTEM_ACTOR);
    expect(await auth.authenticateKey(parsed, hashApiKey(key))).toMatchObject({ ok: false, reason: "INVALID" });
    expect(await db.dataSource.query("SELECT id FROM session_keys")).toEqual([]);
  });

  test("session keys only while sessionKeysEnabled", async () => {
    await settings.update({ sessionKeysEnabled: false });
    const { session } = await sessions.start(alice, client);
    await expect(sessions.issueKey(session.id, SYSTEM_ACTOR)).rejects.toMatchObject({ extensions: { code: "FORBIDDEN" } });
  });

  test("deactivating the user ends every session (the user's sessions are deleted with the bump)", async () => {
    const bob = await users.create({ email: "bob@example.org", password: "bob-Secret-12" });
    const first = await sessions.start({ userId: bob.id, email: bob.email }, client);
    const second = await sessions.start({ userId: bob.id, email: bob.email }, client);
    expect((await cookie(first.token)).ok).toBe(true);
    expect(await sessions.endAllForUser(bob.id, { except: second.session.id })).toBe(1);
    expect((await cookie(first.token)).ok).toBe(false);
    expect((await cookie(second.token)).ok).toBe(true);
    await users.setActive(String(bob.id), false, SYSTEM_ACTOR);
    expect((await cookie(second.token)).ok).toBe(false);
    expect(await db.dataSource.query("SELECT id FROM sessions WHERE user_id = ?", [bob.id])).toEqual([]);
    // Reactivation does not bring an ended session back.
    await users.setActive(String(bob.id), true, SYSTEM_ACTOR);
    expect((await cookie(second.token)).ok).toBe(false);
  });

  test("list: the user's live sessions, newest use first, the current one marked", async () => {
    const carol = await users.create({ email: "carol@example.org", password: "carol-Secret-1" });
    const a = await sessions.start({ userId: carol.id, email: carol.email }, client);
    clock += 1000;
    const b = await sessions.start({ userId: carol.id, email: carol.email }, { ip: "198.51.100.1", userAgent: "x".repeat(400) });
    const listed = await sessions.list(carol.id, a.session.id);
    expect(listed.map((s) => [s.id, s.current])).toEqual([
      [b.session.id, false],
      [a.session.id, true],
    ]);
    expect(listed[0].userAgent).toHaveLength(256);
    clock += IDLE_MS + 1;
    expect(await sessions.list(carol.id)).toEqual([]);
  });

  test(`at most ${MAX_SESSIONS_PER_USER} sessions per user: logging in again ends the oldest`, async () => {
    const dave = await users.create({ email: "dave@example.org", password: "dave-Secret-12" });
    const first = await sessions.start({ userId: dave.id, email: dave.email }, client);
    for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) {
      clock += 10;
      await sessions.start({ userId: dave.id, email: dave.email }, client);
    }
    const [{ n }] = await db.dataSource.query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?", [dave.id]);
    expect(Number(n)).toBe(MAX_SESSIONS_PER_USER);
    expect((await cookie(first.token)).ok).toBe(false);
  });

  test("purge deletes sessions past their maximum or long idle, with their session keys", async () => {
    await settings.update({ sessionKeysEnabled: true });
    const erin = await users.create({ email: "erin@example.org", password: "erin-Secret-12" });
    const { session } = await sessions.start({ userId: erin.id, email: erin.email }, client);
    await sessions.issueKey(session.id, { userId: erin.id, email: erin.email, ip: client.ip });
    clock += MAX_MS;
    expect(await sessions.purgeExpired()).toBeGreaterThan(0);
    const [{ n }] = await db.dataSource.query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?", [erin.id]);
    const [{ k }] = await db.dataSource.query("SELECT COUNT(*) AS k FROM session_keys WHERE session_id = ?", [session.id]);
    expect({ sessions: Number(n), sessionKeys: Number(k) }).toEqual({ sessions: 0, sessionKeys: 0 });
  });
  test("a cookie of the wrong length is refused before any hashing; another kind of key as a cookie is refused without SQL", async () => {
    const hashing = jest.spyOn(keyFormat, "hashApiKey");
    try {
      await expect(cookie("xtc_short")).resolves.toEqual({ ok: false, reason: "INVALID", method: "session" });
      expect(hashing).not.toHaveBeenCalled();
    } finally {
      hashing.mockRestore();
    }
    const keyTags = new KeyTags(db.dataSource);
    const others = [(await keyTags.issue("api")).key, (await keyTags.issue("session")).key];
    const counter = countQueries(db.dataSource);
    for (const key of others) await expect(cookie(key)).resolves.toEqual({ ok: false, reason: "INVALID", method: "session" });
    expect(counter.snapshot().statements).toBe(0);
  });

  test("a session whose user was deactivated behind the service's back: refused, naming the account, until reactivated", async () => {
    const { token } = await sessions.start(alice, client);
    await db.dataSource.query("UPDATE users SET active = 0 WHERE id = ?", [alice.userId]);
    try {
      await expect(cookie(token)).resolves.toEqual({ ok: false, reason: "INVALID", method: "session", account: { userId: alice.userId, email: alice.email } });
    } finally {
      await db.dataSource.query("UPDATE users SET active = 1 WHERE id = ?", [alice.userId]);
    }
    // The refusal was not cached: reactivated (also behind the service's back), the cookie works again.
    expect((await cookie(token)).ok).toBe(true);
  });
  test("the identity carries the user's display name", async () => {
    await db.dataSource.query("UPDATE users SET display_name = 'Alice A.' WHERE id = ?", [alice.userId]);
    try {
      const { token } = await sessions.start(alice, client);
      expect(await cookie(token)).toMatchObject({ ok: true, identity: { profile: { displayName: "Alice A." } } });
    } finally {
      await db.dataSource.query("UPDATE users SET display_name = NULL WHERE id = ?", [alice.userId]);
    }
  });

  test("before the key-tag secret is loaded, a cookie waits for it and then authenticates", async () => {
    const { token } = await sessions.start(alice, client);
    const unloaded = new SessionAuthenticator(db.dataSource, new SessionCache(revocations.cache, 100), new KeyTags(db.dataSource), activity, { idleTimeoutMs: IDLE_MS }, () => clock);
    const pending = unloaded.authenticateCookie(token);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ ok: true, identity: { userId: alice.userId } });
  });
});
