import { accountSubject, AuthThrottle } from "../../src/auth/auth-throttle";
import { clientIp } from "../../src/http/client-ip";
import type { IncomingMessage } from "node:http";

describe("AuthThrottle", () => {
  let now = 0;
  const throttle = (limit = 3, windowMs = 60_000, maxEntries = 1000) => new AuthThrottle({ limit, windowMs, maxEntries, now: () => now });
  beforeEach(() => {
    now = 1_000_000;
  });

  test("under the limit: not blocked; at the limit: blocked with Retry-After until the window ends", () => {
    const t = throttle(3, 60_000);
    t.recordFailure("ip:a");
    t.recordFailure("ip:a");
    expect(t.check("ip:a")).toEqual({ blocked: false });
    t.recordFailure("ip:a");
    expect(t.check("ip:a")).toEqual({ blocked: true, retryAfterSeconds: 60 });
    now += 45_500;
    expect(t.check("ip:a")).toEqual({ blocked: true, retryAfterSeconds: 15 });
    now += 14_500;
    expect(t.check("ip:a")).toEqual({ blocked: false });
  });

  test("subjects are independent; any blocked subject blocks the check", () => {
    const t = throttle(2);
    t.recordFailure("ip:a", "account:x");
    t.recordFailure("ip:b", "account:x");
    expect(t.check("ip:a")).toEqual({ blocked: false });
    expect(t.check("ip:c", "account:x")).toMatchObject({ blocked: true });
    expect(t.check("ip:c", "account:y")).toEqual({ blocked: false });
  });

  test("a new window starts after the old one ends", () => {
    const t = throttle(2, 1000);
    t.recordFailure("ip:a");
    now += 1500;
    t.recordFailure("ip:a");
    expect(t.check("ip:a")).toEqual({ blocked: false });
  });

  test("memory is bounded: past maxEntries the oldest subjects are forgotten", () => {
    const t = throttle(1, 60_000, 100);
    for (let i = 0; i < 10_000; i++) t.recordFailure(`ip:${i}`);
    expect(t.size).toBeLessThanOrEqual(100);
    expect(t.check("ip:9999")).toMatchObject({ blocked: true });
    expect(t.check("ip:0")).toEqual({ blocked: false });
  });

  test("an account is counted by its id, whatever spelling of its email was typed; an unknown email by its canonical form", () => {
    expect(accountSubject({ userId: 7 }, " Alice@Example.ORG ")).toBe(accountSubject({ userId: 7 }, "alice@example.org"));
    expect(accountSubject(null, " Ｎobody@Example.ORG ")).toBe(accountSubject(null, "nobody@example.org"));
    expect(accountSubject(null, "nobody@example.org")).not.toBe(accountSubject(null, "nóbody@example.org"));
  });

  test("reserve: an attempt in flight counts before it finishes, so concurrent attempts cannot pass the limit", () => {
    const t = throttle(3);
    const reservations = Array.from({ length: 10 }, () => t.reserve("ip:a", "account:1"));
    expect(reservations.filter((r) => !r.blocked)).toHaveLength(3);
    expect(reservations[3]).toEqual({ blocked: true, retryAfterSeconds: 60 });
  });

  test("reserve: a success releases its place, a failure keeps it; release twice changes nothing", () => {
    const t = throttle(2);
    const first = t.reserve("ip:a");
    const second = t.reserve("ip:a");
    expect(t.reserve("ip:a").blocked).toBe(true);
    if (first.blocked || second.blocked) throw new Error("unexpected");
    first.release();
    first.release();
    expect(t.check("ip:a")).toEqual({ blocked: false });
    expect(t.reserve("ip:a").blocked).toBe(false);
    expect(t.reserve("ip:a").blocked).toBe(true);
  });

  test("block: a limit reached on another instance refuses here until its window ends", () => {
    const t = throttle(5);
    t.block("account:1", now + 30_000);
    expect(t.check("account:1")).toEqual({ blocked: true, retryAfterSeconds: 30 });
    now += 30_000;
    expect(t.check("account:1")).toEqual({ blocked: false });
  });

  test("check forgets a window that has ended", () => {
    const t = throttle(1, 1000);
    t.recordFailure("ip:a");
    now += 999;
    t.check("ip:a");
    expect(t.size).toBe(1);
    now += 1;
    expect(t.check("ip:a")).toEqual({ blocked: false });
    expect(t.size).toBe(0);
  });

  test("block: a window already over (or ending now) is not stored; a live window is raised to the limit and the later end", () => {
    const t = throttle(5, 10_000);
    t.block("account:1", now);
    t.block("account:2", now - 1);
    expect(t.size).toBe(0);
    t.recordFailure("account:3"); // one failure here, window ends at now + 10 s
    t.block("account:3", now + 30_000);
    expect(t.size).toBe(1);
    expect(t.check("account:3")).toEqual({ blocked: true, retryAfterSeconds: 30 });
    t.block("account:3", now + 5_000); // an earlier end never shortens the block
    expect(t.check("account:3")).toEqual({ blocked: true, retryAfterSeconds: 30 });
  });

  test("block: past maxEntries, the map is trimmed like any other", () => {
    const t = throttle(1, 60_000, 3);
    for (let i = 0; i < 5; i++) t.block(`account:${i}`, now + 60_000);
    expect(t.size).toBe(3);
    expect(t.check("account:0")).toEqual({ blocked: false });
    expect(t.check("account:4")).toMatchObject({ blocked: true });
  });

  test("trimming drops ended windows first, wherever they are in the map, then only as many of the oldest as needed", () => {
    const t = throttle(1, 100, 3);
    t.block("account:long", now + 10_000); // oldest, still running when the others have ended
    t.recordFailure("ip:b"); // ends at now + 100
    t.recordFailure("ip:c"); // ends at now + 100
    now += 100;
    t.recordFailure("ip:d");
    expect(t.size).toBe(2);
    expect(t.check("account:long")).toMatchObject({ blocked: true });
    expect(t.check("ip:d")).toMatchObject({ blocked: true });

    // Nothing ended: exactly one (the oldest) leaves for each newcomer past the bound.
    t.recordFailure("ip:e");
    t.recordFailure("ip:f");
    expect(t.size).toBe(3);
    expect([t.check("account:long"), t.check("ip:d"), t.check("ip:e"), t.check("ip:f")].map((v) => v.blocked)).toEqual([false, true, true, true]);
  });
});

describe("clientIp", () => {
  const request = (remoteAddress: string, forwarded?: string) => ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } }) as unknown as IncomingMessage;

  test("TRUST_PROXY=0: X-Forwarded-For is ignored (a client could write anything there)", () => {
    expect(clientIp(request("::ffff:10.0.0.5", "1.2.3.4"), 0)).toBe("10.0.0.5");
  });

  test("TRUST_PROXY=1: the entry our proxy appended, not what the client sent before it", () => {
    expect(clientIp(request("10.0.0.1", "6.6.6.6, 203.0.113.9"), 1)).toBe("203.0.113.9");
  });

  test("TRUST_PROXY=2: two proxies of ours, the client is second from the right", () => {
    expect(clientIp(request("10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2"), 2)).toBe("203.0.113.9");
  });

  test("a garbage X-Forwarded-For falls back to the peer address", () => {
    expect(clientIp(request("10.0.0.1", "<script>"), 1)).toBe("10.0.0.1");
    expect(clientIp(request("10.0.0.1", " , "), 1)).toBe("10.0.0.1");
  });
});
