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
});
