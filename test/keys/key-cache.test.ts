import { type CachedKey, KeyCache } from "../../src/keys/key-cache";

const entry = (keyId: number): CachedKey => ({
  keyId,
  userId: 1,
  email: "alice@example.org",
  isAdmin: false,
  active: true,
  expiresAt: null,
  readOnly: false,
  displayName: null,
  userCreatedAt: new Date(0),
  lastUsedAt: null,
});

/** A cache on a hand-moved clock, polling a generation the test sets. */
function cacheUnderTest(windowMs = 100, maxEntries = 100) {
  const state = { now: 0, generation: "0", fail: false, errors: 0 };
  const cache = new KeyCache(
    { windowMs, maxEntries },
    async () => {
      if (state.fail) throw new Error("database away");
      return state.generation;
    },
    () => state.errors++,
    () => state.now,
  );
  return { cache, state };
}

describe("KeyCache (revocation-safe key lookups)", () => {
  test("before the first poll: nothing is served from memory", async () => {
    const { cache } = cacheUnderTest();
    cache.set("h1", entry(1), cache.version);
    expect(cache.get("h1")).toBeUndefined();
  });

  test("within the window of the last poll's start: served; at the window's end: not", async () => {
    const { cache, state } = cacheUnderTest(100);
    await cache.poll();
    cache.set("h1", entry(1), cache.version);
    state.now = 99;
    expect(cache.get("h1")?.keyId).toBe(1);
    state.now = 100;
    expect(cache.get("h1")).toBeUndefined();
    await cache.poll();
    expect(cache.get("h1")?.keyId).toBe(1);
  });

  test("the generation moved (a revocation anywhere): the poll empties the cache", async () => {
    const { cache, state } = cacheUnderTest();
    await cache.poll();
    cache.set("h1", entry(1), cache.version);
    state.generation = "1";
    await cache.poll();
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test("a row read before a clear is not cached after it", async () => {
    const { cache } = cacheUnderTest();
    await cache.poll();
    const versionAtRead = cache.version;
    cache.clear(); // a revocation committed while the row was being read
    cache.set("h1", entry(1), versionAtRead);
    expect(cache.get("h1")).toBeUndefined();
  });

  test("failing polls: the cache goes stale within the window and the failure is reported", async () => {
    const { cache, state } = cacheUnderTest(100);
    await cache.poll();
    cache.set("h1", entry(1), cache.version);
    state.fail = true;
    state.now = 50;
    await cache.poll();
    expect(cache.get("h1")?.keyId).toBe(1);
    state.now = 100;
    await cache.poll();
    expect(cache.get("h1")).toBeUndefined();
    expect(state.errors).toBe(2);
  });

  test("the window is counted from when the poll started, not when its answer came", async () => {
    const { state } = cacheUnderTest(100);
    let answer: (generation: string) => void = () => {};
    const slow = new KeyCache({ windowMs: 100, maxEntries: 10 }, () => new Promise<string>((resolve) => (answer = resolve)), () => {}, () => state.now);
    const polled = slow.poll();
    state.now = 80; // the answer takes 80 ms
    answer("0");
    await polled;
    slow.set("h1", entry(1), slow.version);
    state.now = 99;
    expect(slow.get("h1")?.keyId).toBe(1);
    state.now = 100;
    expect(slow.get("h1")).toBeUndefined();
  });

  test("bounded: beyond maxEntries the oldest entry leaves first", async () => {
    const { cache } = cacheUnderTest(100, 2);
    await cache.poll();
    cache.set("h1", entry(1), cache.version);
    cache.set("h2", entry(2), cache.version);
    cache.set("h3", entry(3), cache.version);
    expect(cache.size).toBe(2);
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.get("h3")?.keyId).toBe(3);
  });

  test("window 0: the cache is off and keeps nothing", async () => {
    const { cache } = cacheUnderTest(0);
    await cache.poll();
    cache.set("h1", entry(1), cache.version);
    expect(cache.size).toBe(0);
    expect(cache.get("h1")).toBeUndefined();
  });

  test("remembered absences: kept across revocations and stale windows, bounded, oldest out first", async () => {
    const { cache, state } = cacheUnderTest(100, 2);
    expect(cache.isAbsent("gone1")).toBe(false);
    cache.noteAbsent("gone1");
    state.generation = "1";
    await cache.poll(); // a revocation anywhere: cached keys go, absences stay (no row can appear for them)
    cache.clear();
    state.now = 10_000; // no poll for a long time: cached keys are stale, absences are not
    expect(cache.isAbsent("gone1")).toBe(true);
    cache.noteAbsent("gone2");
    cache.noteAbsent("gone3");
    expect([cache.isAbsent("gone1"), cache.isAbsent("gone2"), cache.isAbsent("gone3")]).toEqual([false, true, true]);
  });

  test("window 0: no absence is remembered either", () => {
    const { cache } = cacheUnderTest(0);
    cache.noteAbsent("gone");
    expect(cache.isAbsent("gone")).toBe(false);
  });
  describe("the poll timer", () => {
    const refTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
    beforeEach(() => jest.useFakeTimers({ doNotFake: ["performance"] }));
    afterEach(() => jest.useRealTimers());

    /** A cache that counts its polls, on the hand-moved clock. */
    function counted(windowMs: number) {
      const state = { now: 0, polls: 0 };
      const cache = new KeyCache({ windowMs, maxEntries: 10 }, async () => (state.polls++, "0"), () => {}, () => state.now);
      return { cache, state };
    }

    test("start: one poll at once, then one every window/4; a second start adds no timer; stop ends them", async () => {
      const { cache, state } = counted(100);
      cache.start();
      cache.start();
      expect(state.polls).toBe(1);
      await jest.advanceTimersByTimeAsync(24);
      expect(state.polls).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(state.polls).toBe(2);
      await jest.advanceTimersByTimeAsync(75);
      expect(state.polls).toBe(5);
      await cache.stop();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(state.polls).toBe(5);
    });

    test("a tiny window still polls at most every 5 ms", async () => {
      const { cache, state } = counted(8);
      cache.start();
      await jest.advanceTimersByTimeAsync(4);
      expect(state.polls).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(state.polls).toBe(2);
      await cache.stop();
    });

    test("window 0: start polls nothing and sets no timer", async () => {
      const { cache, state } = counted(0);
      cache.start();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(state.polls).toBe(0);
      await cache.stop();
    });

    test("stop: cached entries are no longer served, and a stopped cache can start again", async () => {
      const { cache, state } = counted(100);
      cache.start();
      await jest.advanceTimersByTimeAsync(0);
      cache.set("h1", entry(1), cache.version);
      expect(cache.get("h1")?.keyId).toBe(1);
      await cache.stop();
      expect(cache.fresh).toBe(false);
      expect(cache.get("h1")).toBeUndefined();
      cache.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(state.polls).toBe(2);
      expect(cache.get("h1")?.keyId).toBe(1);
      await cache.stop();
    });

    test("stop waits for a poll under way", async () => {
      let answer: (generation: string) => void = () => {};
      let now = 0;
      const cache = new KeyCache({ windowMs: 100, maxEntries: 10 }, () => new Promise<string>((resolve) => (answer = resolve)), () => {}, () => now);
      cache.start();
      let stopped = false;
      const stopping = cache.stop().then(() => (stopped = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(false);
      answer("0");
      await stopping;
      now = 1;
      expect(cache.fresh).toBe(false); // the poll that ended during stop does not vouch for anything
    });

    test("the timer never keeps the process alive", async () => {
      jest.useRealTimers();
      const { cache } = counted(100_000);
      const before = refTimers();
      cache.start();
      try {
        expect(refTimers()).toBe(before);
      } finally {
        await cache.stop();
      }
    });
  });

  test("version: moves on every clear, and only then", async () => {
    const { cache, state } = cacheUnderTest();
    const first = cache.version;
    await cache.poll();
    expect(cache.version).toBe(first + 1); // the first generation seen counts as a move
    await cache.poll();
    expect(cache.version).toBe(first + 1);
    state.generation = "1";
    await cache.poll();
    expect(cache.version).toBe(first + 2);
    cache.clear();
    expect(cache.version).toBe(first + 3);
  });

  test("concurrent polls share one read", async () => {
    let reads = 0;
    const cache = new KeyCache({ windowMs: 100, maxEntries: 10 }, async () => (reads++, "0"), () => {}, () => 0);
    await Promise.all([cache.poll(), cache.poll(), cache.poll()]);
    expect(reads).toBe(1);
    await cache.poll();
    expect(reads).toBe(2);
  });

  test("replacing a cached key at maxEntries evicts nothing", async () => {
    const { cache } = cacheUnderTest(100, 2);
    await cache.poll();
    cache.set("h1", entry(1), cache.version);
    cache.set("h2", entry(2), cache.version);
    cache.set("h2", entry(22), cache.version);
    expect(cache.get("h1")?.keyId).toBe(1);
    expect(cache.get("h2")?.keyId).toBe(22);
  });
});
