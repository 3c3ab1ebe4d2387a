import { type CachedSession, type RevocationView, SessionCache } from "../../../src/auth/sessions/session-cache";

/** The epoch as the test sets it: what the key cache's poll would say. */
function epochUnderTest(): RevocationView & { enabled: boolean; version: number; fresh: boolean } {
  return { enabled: true, version: 0, fresh: true };
}

const session = (sessionId: number, userId = 1): CachedSession => ({
  activity: { sessionId, lastSeenMs: 0, written: new Date(0), expiresAtMs: Number.MAX_SAFE_INTEGER },
  method: "session",
  userId,
  email: "alice@example.org",
  isAdmin: false,
  active: true,
  displayName: null,
  userCreatedAt: new Date(0),
});

describe("SessionCache (session lookups under the key cache's revocation epoch)", () => {
  test("served while the epoch is fresh and unchanged since the read", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    const entry = session(1);
    cache.set("h1", entry, cache.version);
    expect(cache.get("h1")).toBe(entry);
    expect(cache.get("h2")).toBeUndefined();
  });

  test("a stale epoch serves nothing, and the entries come back once a poll vouches again", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    const entry = session(1);
    cache.set("h1", entry, cache.version);
    epoch.fresh = false;
    expect(cache.get("h1")).toBeUndefined();
    epoch.fresh = true;
    expect(cache.get("h1")).toBe(entry);
  });

  test("a moved epoch (a revocation anywhere) empties the cache", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    cache.set("h1", session(1), cache.version);
    epoch.version = 1;
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.size).toBe(0);
    epoch.version = 0; // never happens, but shows the entries are gone, not hidden
    expect(cache.get("h1")).toBeUndefined();
  });

  test("a row read before a revocation is not kept after it", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    const versionAtRead = cache.version;
    epoch.version = 1;
    cache.set("h1", session(1), versionAtRead);
    expect(cache.size).toBe(0);
  });

  test("the first entry after a revocation starts a new generation: older entries are dropped", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    cache.set("h1", session(1), cache.version);
    epoch.version = 1;
    const fresh = session(2);
    cache.set("h2", fresh, cache.version);
    expect(cache.size).toBe(1);
    expect(cache.get("h2")).toBe(fresh);
    expect(cache.get("h1")).toBeUndefined();
  });

  test("the very first entry, read at version 0, is kept", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    const entry = session(1);
    cache.set("h1", entry, 0);
    expect(cache.get("h1")).toBe(entry);
  });

  test("cache off (no epoch): nothing is kept", () => {
    const epoch = epochUnderTest();
    epoch.enabled = false;
    const cache = new SessionCache(epoch, 10);
    cache.set("h1", session(1), cache.version);
    expect(cache.size).toBe(0);
  });

  test("bounded: past maxEntries the oldest entry leaves; replacing an entry evicts nothing", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 2);
    cache.set("h1", session(1), cache.version);
    cache.set("h2", session(2), cache.version);
    cache.set("h2", session(22), cache.version);
    expect(cache.size).toBe(2);
    expect(cache.get("h1")?.activity.sessionId).toBe(1);
    cache.set("h3", session(3), cache.version);
    expect(cache.size).toBe(2);
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.get("h3")?.activity.sessionId).toBe(3);
  });

  test("activity: one record per session, moved forward by later stored uses, never backward", () => {
    const cache = new SessionCache(epochUnderTest(), 10);
    const first = cache.activity(7, new Date(1_000), 99_000);
    expect(first).toEqual({ sessionId: 7, lastSeenMs: 1_000, written: new Date(1_000), expiresAtMs: 99_000 });
    first.lastSeenMs = 5_000; // this instance saw a later use, not yet written
    expect(cache.activity(7, new Date(2_000), 99_000)).toBe(first);
    expect(first).toMatchObject({ lastSeenMs: 5_000, written: new Date(2_000) });
    expect(cache.activity(7, new Date(6_000), 99_000)).toMatchObject({ lastSeenMs: 6_000, written: new Date(6_000) });
    expect(cache.activity(7, new Date(3_000), 99_000)).toMatchObject({ lastSeenMs: 6_000, written: new Date(6_000) });
  });

  test("activity survives a revocation (it grants nothing) and is bounded like the entries", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 2);
    const seven = cache.activity(7, new Date(1_000), 99_000);
    epoch.version = 1;
    expect(cache.activity(7, new Date(1_000), 99_000)).toBe(seven);
    cache.activity(8, new Date(1_000), 99_000);
    cache.activity(9, new Date(1_000), 99_000);
    expect(cache.activity(7, new Date(500), 99_000)).not.toBe(seven); // 7 was the oldest and left
  });

  test("forget: a session this instance ended leaves at once, with its activity; other sessions stay", () => {
    const epoch = epochUnderTest();
    const cache = new SessionCache(epoch, 10);
    const ended = session(1);
    const other = session(2);
    ended.activity = cache.activity(1, new Date(1_000), 99_000);
    cache.set("cookie-1", ended, cache.version);
    cache.set("key-1", { ...ended, method: "sessionkey" }, cache.version);
    cache.set("cookie-2", other, cache.version);
    cache.forget(1);
    expect([cache.get("cookie-1"), cache.get("key-1"), cache.get("cookie-2")]).toEqual([undefined, undefined, other]);
    expect(cache.activity(1, new Date(500), 99_000).lastSeenMs).toBe(500);
  });
});
