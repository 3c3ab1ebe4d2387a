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

  test("accounts are normalised like logins: case and surrounding spaces do not make new counters", () => {
    expect(accountSubject(" Alice@Example.ORG ")).toBe(accountSubject("alice@example.org"));
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
