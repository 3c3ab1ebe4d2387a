import { CountCache } from "../../src/services/count-cache";

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("CountCache (totalCount memo)", () => {
  test("within the TTL: one query for repeated and concurrent asks", async () => {
    let now = 0;
    let queries = 0;
    const cache = new CountCache(5000, 60_000, 10, () => now);
    const compute = async () => ++queries;
    await expect(Promise.all([cache.get("all", compute), cache.get("all", compute)])).resolves.toEqual([1, 1]);
    now = 4999;
    await expect(cache.get("all", compute)).resolves.toBe(1);
    expect(queries).toBe(1);
  });

  test("after the TTL: the stale count at once, one background refresh, then the new count", async () => {
    let now = 0;
    let queries = 0;
    const cache = new CountCache(5000, 60_000, 10, () => now);
    const compute = async () => ++queries;
    await cache.get("all", compute);
    now = 6000;
    await expect(Promise.all([cache.get("all", compute), cache.get("all", compute)])).resolves.toEqual([1, 1]);
    await flush();
    expect(queries).toBe(2);
    await expect(cache.get("all", compute)).resolves.toBe(2);
  });

  test("past the stale limit: counted again before answering", async () => {
    let now = 0;
    let queries = 0;
    const cache = new CountCache(5000, 60_000, 10, () => now);
    await cache.get("all", async () => ++queries);
    now = 60_000;
    await expect(cache.get("all", async () => ++queries)).resolves.toBe(2);
  });

  test("clear (a key write): the next ask counts again, even during a refresh; other filters are separate", async () => {
    let now = 0;
    const cache = new CountCache(5000, 60_000, 10, () => now);
    await cache.get("all", async () => 7);
    await expect(cache.get("bob", async () => 1)).resolves.toBe(1);
    now = 6000;
    let finishRefresh: (value: number) => void = () => undefined;
    await expect(cache.get("all", () => new Promise<number>((resolve) => (finishRefresh = resolve)))).resolves.toBe(7);
    cache.clear();
    finishRefresh(7); // a refresh that started before the write must not come back
    await flush();
    await expect(cache.get("all", async () => 6)).resolves.toBe(6);
  });

  test("a failed count is not remembered", async () => {
    const cache = new CountCache(5000, 60_000, 10, () => 0);
    await expect(cache.get("all", async () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    await expect(cache.get("all", async () => 3)).resolves.toBe(3);
  });

  test("bounded: the oldest entry goes when full", async () => {
    const cache = new CountCache(5000, 60_000, 2, () => 0);
    await cache.get("a", async () => 1);
    await cache.get("b", async () => 2);
    await cache.get("c", async () => 3);
    await expect(cache.get("a", async () => 10)).resolves.toBe(10);
    await expect(cache.get("c", async () => 30)).resolves.toBe(3);
  });

  test("apply after a write: snapshotted counts move by their delta and keep their age; counts replaced or pending meanwhile are dropped", async () => {
    let now = 0;
    let queries = 0;
    const cache = new CountCache<string>(5000, 60_000, 10, () => now);
    const compute = (value: number) => async () => {
      queries++;
      return value;
    };
    await cache.get("all", compute(100), "scope-all");
    await cache.get("mine", compute(10), "scope-mine");
    await cache.get("theirs", compute(20), "scope-theirs");
    const snapshot = cache.snapshot();
    expect(snapshot.items.map((item) => [item.key, item.settled, item.scope])).toEqual([
      ["theirs", 20, "scope-theirs"],
      ["mine", 10, "scope-mine"],
      ["all", 100, "scope-all"],
    ]);
    // Meanwhile: "theirs" is counted again (its entry replaced), and a new count is still pending.
    now = 6000;
    await cache.get("theirs", compute(25)); // stale: answered 20, counted again in the background
    await flush();
    void cache.get("pending", () => new Promise<number>(() => undefined));
    cache.apply(snapshot, [-1, -2, -3]);
    // Adjusted, not counted again (past the TTL they answer at once, as stale counts do).
    await expect(cache.get("mine", compute(999))).resolves.toBe(8);
    await expect(cache.get("all", compute(999))).resolves.toBe(97);
    // Dropped: counted again.
    await expect(cache.get("theirs", compute(30))).resolves.toBe(30);
    await expect(cache.get("pending", compute(5))).resolves.toBe(5);
  });
});
