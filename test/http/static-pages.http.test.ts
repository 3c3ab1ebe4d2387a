import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { PAGE_CSP, PAGE_PATHS, defaultWebDir } from "../../src/http/static-pages";
import { basic, startTestApp, type TestApp } from "../support/app";
import { FAKE_PAGES, fakePagesBuild } from "../support/pages";
import { rawRequest } from "../support/raw-http";

const INDEX_HTML = FAKE_PAGES.indexHtml;
const SCRIPT = FAKE_PAGES.script.text;
const SECRET = FAKE_PAGES.secret;

describe("the web pages, from a build folder", () => {
  let app: TestApp;
  let build: Awaited<ReturnType<typeof fakePagesBuild>>;
  const base = () => `http://127.0.0.1:${app.port}`;
  const get = (requestPath: string, init: RequestInit = {}) => fetch(base() + requestPath, init);

  beforeAll(async () => {
    build = await fakePagesBuild();
    app = await startTestApp({ WEB_DIR: build.webDir });
  });
  afterAll(async () => {
    await app?.close();
    await build?.remove();
  });

  test.each([...PAGE_PATHS])("GET %s: index.html, not cached, with the pages' CSP and the document headers", async (pagePath) => {
    const response = await get(pagePath);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INDEX_HTML);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    // One cache-control (fetch joins repeated headers with ", "): the JSON default no-store is replaced.
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("etag")).toMatch(/^"[\w-]+"$/);
  });

  test("the pages' CSP: own scripts and styles only, never inline, never framed", async () => {
    const csp = (await get("/login?next=%2Faccess")).headers.get("content-security-policy")!;
    const directives = new Map(csp.split(";").map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("style-src")).toEqual(["'self'"]);
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
  });

  test("a hashed asset: cached for a year as immutable, with its type, length and ETag", async () => {
    const script = await get("/assets/index-B4x9Qz1k.js");
    expect(script.status).toBe(200);
    expect(await script.text()).toBe(SCRIPT);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("content-length")).toBe(String(Buffer.byteLength(SCRIPT)));
    const etag = script.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    const style = await get("/assets/index-Cq7Lm2aa.css");
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(style.headers.get("etag")).not.toBe(etag);
    // Revalidation: the same ETag back is a 304 without a body.
    const again = await get("/assets/index-B4x9Qz1k.js", { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("HEAD of a page and of an asset: the headers with the length, no body", async () => {
    const page = await get("/access", { method: "HEAD" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-length")).toBe(String(Buffer.byteLength(INDEX_HTML)));
    expect(await page.text()).toBe("");
    const asset = await get("/assets/index-B4x9Qz1k.js", { method: "HEAD" });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  test("an unknown asset: 404; an unknown path: the API's JSON 404 as before", async () => {
    const asset = await get("/assets/index-XXXXXXXX.js");
    expect(asset.status).toBe(404);
    expect(asset.headers.get("cache-control")).toBe("no-store");
    for (const other of ["/index.html", "/private.txt", "/login/", "/admin", "/admin/keys/1", "/assets"]) {
      const response = await get(other);
      expect({ other, status: response.status }).toEqual({ other, status: 404 });
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.text()).not.toContain(SECRET);
    }
  });

  test.each([
    "/assets/../secret.txt",
    "/assets/../../secret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/assets/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/assets/..%2F..%2Fsecret.txt",
    "/assets/..%5C..%5Csecret.txt",
    "/assets\\..\\..\\secret.txt",
    "/assets/..\\..\\private.txt",
    "/assets/%2e%2e/private.txt",
    "/assets/index-B4x9Qz1k.js%00.txt",
    "/assets/%00",
    "/assets/%E0%A4%A",
    "/assets//etc/passwd",
    "/assets/%2Fetc%2Fpasswd",
  ])("path traversal %s: refused, nothing outside assets/ is read", async (target) => {
    const response = await rawRequest(app.port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect([400, 404]).toContain(response.status);
    expect(response.text).not.toContain(SECRET);
    expect(response.text).not.toContain("root:");
  });

  test("a NUL byte in the request line: 400 from the parser, nothing read", async () => {
    const response = await rawRequest(app.port, Buffer.from("GET /assets/\0../secret.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "latin1"));
    expect(response.status).toBe(400);
    expect(response.text).not.toContain(SECRET);
  });

  test("POST (or PUT, DELETE) to a page or an asset: 405 naming GET and HEAD", async () => {
    for (const [method, target] of [["POST", "/login"], ["PUT", "/"], ["DELETE", "/admin/keys"], ["POST", "/assets/index-B4x9Qz1k.js"]]) {
      const response = await get(target, { method, body: method === "DELETE" ? undefined : "x" });
      expect({ method, target, status: response.status }).toEqual({ method, target, status: 405 });
      expect(response.headers.get("allow")).toBe("GET, HEAD");
    }
  });

  test("JSON answers keep their headers: no-store, the API's CSP, no document headers", async () => {
    const answer = await app.graphql("{ __typename }");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.headers.get("content-security-policy")).not.toContain("script-src");
    expect(answer.headers.get("x-frame-options")).toBeNull();
    expect(answer.headers.get("etag")).toBeNull();
  });

  test("/metrics: pages count as route \"page\", assets as \"asset\", never one label per path", async () => {
    const scrape = async () => (await get("/metrics")).text();
    const count = (text: string, route: string, status: number) =>
      Number(new RegExp(`^xta_http_requests_total\\{route="${route}",operation="",status="${status}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    const before = await scrape();
    await get("/settings");
    await get("/admin/users?x=1");
    await get("/assets/index-Cq7Lm2aa.css");
    await get("/assets/nothing-here.js");
    const after = await scrape();
    expect(count(after, "page", 200) - count(before, "page", 200)).toBe(2);
    expect(count(after, "asset", 200) - count(before, "asset", 200)).toBe(1);
    expect(count(after, "asset", 404) - count(before, "asset", 404)).toBe(1);
    const routes = new Set([...after.matchAll(/^xta_http_requests_total\{[^}]*route="([^"]*)"/gm)].map((match) => match[1]));
    expect([...routes].filter((route) => !["/graphql", "/healthz", "/readyz", "/metrics", "page", "asset", "other"].includes(route))).toEqual([]);
  });
});

describe("the pages not built (no index.html)", () => {
  let app: TestApp;
  let empty: string;

  beforeAll(async () => {
    empty = await mkdtemp(path.join(tmpdir(), "xta-no-pages-"));
    app = await startTestApp({ WEB_DIR: empty });
  });
  afterAll(async () => {
    await app?.close();
    await rm(empty, { recursive: true, force: true });
  });

  test("page paths: 503 saying to run npm run build:web; the server starts and answers the API", async () => {
    const page = await fetch(`http://127.0.0.1:${app.port}/access`);
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await page.text()).toContain("npm run build:web");
    expect((await fetch(`http://127.0.0.1:${app.port}/healthz`)).status).toBe(200);
    expect((await app.graphql("{ __typename }")).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${app.port}/assets/index-B4x9Qz1k.js`)).status).toBe(404);
  });

  test("one warning at startup, not one per request", async () => {
    await fetch(`http://127.0.0.1:${app.port}/`);
    await fetch(`http://127.0.0.1:${app.port}/login`);
    const warnings = app.logLines.filter((line) => line.includes("not built"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ level: 40, webDir: empty });
  });
});

describe("the default build folder", () => {
  test("dist/web under the package root, from src/http (ts-node, jest) and from dist/src/http (compiled)", async () => {
    const repo = path.resolve(__dirname, "..", "..");
    expect(await defaultWebDir(path.join(repo, "src", "http"))).toBe(path.join(repo, "dist", "web"));
    expect(await defaultWebDir(path.join(repo, "dist", "src", "http"))).toBe(path.join(repo, "dist", "web"));
    expect(await defaultWebDir()).toBe(path.join(repo, "dist", "web"));
  });
});

describe("401 to a page's request: no Basic challenge (no browser login dialog); scripts still get it", () => {
  let app: TestApp;
  const ME = "{ me { email } }";
  const BROWSER_FETCH = { "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin", "sec-fetch-dest": "empty" };

  /** A request as curl sends it: node:http adds no header of its own (no Sec-Fetch-*, unlike fetch). */
  const curlLike = (headers: Record<string, string> = {}) =>
    new Promise<{ status: number; challenge: string | undefined }>((resolve, reject) => {
      const body = JSON.stringify({ query: ME });
      const request = http.request({ host: "127.0.0.1", port: app.port, path: "/graphql", method: "POST", headers: { "content-type": "application/json", "user-agent": "curl/8.14.1", accept: "*/*", ...headers } }, (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode!, challenge: response.headers["www-authenticate"] }));
      });
      request.on("error", reject);
      request.end(body);
    });
  const wrongPassword = { authorization: "Basic " + Buffer.from("alice@example.org:not the password").toString("base64") };

  beforeAll(async () => {
    app = await startTestApp();
    await app.createUser("alice@example.org");
  });
  afterAll(async () => {
    await app?.close();
  });

  test("a script (curl's headers): the Basic challenge, without credentials and with wrong ones", async () => {
    expect(await curlLike()).toEqual({ status: 401, challenge: expect.stringMatching(/^Basic realm="[^"]+"/) });
    expect(await curlLike(wrongPassword)).toEqual({ status: 401, challenge: expect.stringMatching(/^Basic realm="[^"]+"/) });
  });

  test("X-Requested-With: XMLHttpRequest (what the pages send): 401 without WWW-Authenticate, without credentials and with wrong ones", async () => {
    expect(await curlLike({ "x-requested-with": "XMLHttpRequest" })).toEqual({ status: 401, challenge: undefined });
    expect(await curlLike({ "x-requested-with": "XMLHttpRequest", ...wrongPassword })).toEqual({ status: 401, challenge: undefined });
    const viaFetch = await app.graphql(ME, undefined, { ...basic("alice@example.org", "not the password"), headers: { "x-requested-with": "XMLHttpRequest" } });
    expect(viaFetch.status).toBe(401);
    expect(viaFetch.headers.get("www-authenticate")).toBeNull();
  });

  test.each(["cors", "same-origin", "no-cors"])("a browser's fetch (Sec-Fetch-Mode: %s with Sec-Fetch-Site): 401 without WWW-Authenticate", async (mode) => {
    expect(await curlLike({ ...BROWSER_FETCH, "sec-fetch-mode": mode })).toEqual({ status: 401, challenge: undefined });
    expect(await curlLike({ ...BROWSER_FETCH, "sec-fetch-mode": mode, ...wrongPassword })).toEqual({ status: 401, challenge: undefined });
  });

  test("the address bar (Sec-Fetch-Mode: navigate), Node's fetch (Sec-Fetch-Mode: cors alone) or another X-Requested-With: the challenge stays", async () => {
    expect((await curlLike({ ...BROWSER_FETCH, "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" })).challenge).toMatch(/^Basic /);
    expect((await curlLike({ "sec-fetch-mode": "cors" })).challenge).toMatch(/^Basic /);
    expect((await app.graphql(ME)).headers.get("www-authenticate")).toMatch(/^Basic /);
    expect((await curlLike({ "x-requested-with": "com.example.app" })).challenge).toMatch(/^Basic /);
  });

  test("CORS preflight from an allowed origin may send X-Requested-With", async () => {
    const cors = await startTestApp({ CORS_ORIGINS: "https://pages.example.org" });
    try {
      const preflight = await fetch(`http://127.0.0.1:${cors.port}/graphql`, {
        method: "OPTIONS",
        headers: { origin: "https://pages.example.org", "access-control-request-method": "POST", "access-control-request-headers": "x-requested-with, content-type" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-headers")).toMatch(/(^|, )X-Requested-With(,|$)/i);
    } finally {
      await cors.close();
    }
  });
});
