import type { IncomingMessage } from "node:http";
import { mayUseCookies, readCookie, RequestCookies, serializeCookie, sessionCookieOf } from "../../src/http/cookies";

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
const plain = { secure: false, trustProxy: 0, corsOrigins: [] as string[] };

describe("cookie helpers", () => {
  test("readCookie finds a cookie among others, with spaces and quotes; never a prefix of another name", () => {
    expect(readCookie("a=1; xta_session=abc; b=2", "xta_session")).toBe("abc");
    expect(readCookie('xta_session="abc"', "xta_session")).toBe("abc");
    expect(readCookie("xxta_session=abc;xta_session_other=1", "xta_session")).toBeUndefined();
    expect(readCookie("xta_session=", "xta_session")).toBeUndefined();
    expect(readCookie("garbage;;;=;", "xta_session")).toBeUndefined();
    expect(readCookie(undefined, "xta_session")).toBeUndefined();
    expect(readCookie(`xta_session=${"a".repeat(300)}`, "xta_session")).toBeUndefined();
  });

  test("session cookie: HttpOnly, SameSite=Lax, Path=/, no Max-Age; Secure ones are __Host- prefixed", () => {
    expect(serializeCookie("xta_session", "v", { secure: false, sameSite: "Lax" })).toBe("xta_session=v; Path=/; HttpOnly; SameSite=Lax");
    expect(serializeCookie("xta_session", "v", { secure: true, sameSite: "Lax" })).toBe("__Host-xta_session=v; Path=/; HttpOnly; SameSite=Lax; Secure");
    expect(serializeCookie("xta_session", "", { secure: false, sameSite: "Lax", maxAgeSeconds: 0 })).toContain("Max-Age=0");
  });

  test("HTTPS through a trusted proxy makes the cookies Secure; an untrusted X-Forwarded-Proto does not", () => {
    const viaProxy = request({ "x-forwarded-proto": "https", "user-agent": "ua" });
    const jar = new RequestCookies(viaProxy, { ...plain, trustProxy: 1 });
    jar.startSession("t");
    expect(jar.setCookies[0]).toMatch(/^__Host-xta_session=t;.*Secure/);
    const untrusted = new RequestCookies(viaProxy, plain);
    untrusted.startSession("t");
    expect(untrusted.setCookies[0]).not.toMatch(/Secure|__Host-/);
    const forced = new RequestCookies(request({}), { ...plain, secure: true });
    forced.setDevice("d", 86_400_000);
    expect(forced.setCookies[0]).toBe("__Host-xta_device=d; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=86400");
  });

  test("only the cookie name that fits the request is read: a plain cookie is ignored over HTTPS", () => {
    expect(sessionCookieOf(request({ cookie: "xta_session=plain" }), { ...plain, secure: true })).toBeUndefined();
    expect(sessionCookieOf(request({ cookie: "__Host-xta_session=s" }), { ...plain, secure: true })).toBe("s");
    expect(sessionCookieOf(request({ cookie: "__Host-xta_session=s" }), plain)).toBeUndefined();
  });

  test("cookies count only from the same origin, a listed CORS origin, or a request without Origin that is not cross-site", () => {
    expect(mayUseCookies(request({ host: "api.example.org" }), plain)).toBe(true);
    expect(mayUseCookies(request({ host: "api.example.org", origin: "https://api.example.org" }), plain)).toBe(true);
    expect(mayUseCookies(request({ host: "api.example.org", origin: "https://evil.example" }), plain)).toBe(false);
    expect(mayUseCookies(request({ host: "api.example.org", origin: "null" }), plain)).toBe(false);
    expect(mayUseCookies(request({ host: "api.example.org", "sec-fetch-site": "cross-site" }), plain)).toBe(false);
    expect(mayUseCookies(request({ host: "api.example.org", origin: "https://app.example.org" }), { ...plain, corsOrigins: ["https://app.example.org"] })).toBe(true);
    expect(mayUseCookies(request({ host: "api.example.org", origin: "https://evil.example" }), { ...plain, corsOrigins: ["*"] })).toBe(false);
    // Behind a trusted proxy the public host is the forwarded one.
    expect(mayUseCookies(request({ host: "10.0.0.5:4000", "x-forwarded-host": "api.example.org", origin: "https://api.example.org" }), { ...plain, trustProxy: 1 })).toBe(true);
  });
});
