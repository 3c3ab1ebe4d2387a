import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { startTestApp, type TestApp, type TestUser } from "./app";

/**
 * The browser tests' harness: Debian's Chromium driven by playwright-core, against a test server
 * (test/support/app.ts: port 0, a fresh database of the jest project's kind) that serves the built
 * pages from dist/web. The jest globalSetup (test/support/build-web.js) rebuilds dist/web first
 * when it is missing or older than web/.
 *
 * One browser and one context per test file (launching Chromium is the expensive part on two
 * shared cores); a file's tests run in order and may build on each other's state, like a person
 * using the pages. Every page made here is watched: console errors (CSP violations among them),
 * uncaught page errors and a 401 from /graphql that carries WWW-Authenticate (the browser's own
 * Basic dialog) fail the test that caused them (see `problems`).
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 375, height: 740 } as const;

/** Screenshots of the pages for the README, written only when UPDATE_SCREENSHOTS=1 (so `npm test` leaves the tree clean). */
export const SCREENSHOT_DIR = path.join(__dirname, "..", "..", "docs", "screenshots");
export const updatingScreenshots = process.env.UPDATE_SCREENSHOTS === "1";

let noticePrinted = false;

/**
 * Whether the browser tests of this file run. Without Chromium they are skipped with a notice on a
 * developer's machine; under CI=true they run anyway and fail in beforeAll (.ci/run installs it).
 */
export function browserAvailable(): boolean {
  if (fs.existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === "true") return true;
  if (!noticePrinted) {
    noticePrinted = true;
    console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install chromium (or set CHROMIUM_PATH). Under CI=true they fail instead.`);
  }
  return false;
}

/** `describe` when Chromium is there (or CI=true), else `describe.skip` after a printed notice. */
export const describeInBrowser: jest.Describe = browserAvailable() ? describe : describe.skip;

/**
 * The few browser globals the in-page functions (page.evaluate) use, typed here: the project's
 * tsconfig has no DOM lib (src/ is server code), and these functions run in the page, not in node.
 */
export interface InPageNode {
  contains(other: unknown): boolean;
}
export interface InPage {
  document: {
    documentElement: { scrollWidth: number };
    activeElement: unknown;
    body: unknown;
    getElementById(id: string): { textContent: string | null } | null;
    addEventListener(type: "securitypolicyviolation", listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
  };
  innerWidth: number;
  navigator: { clipboard: { readText(): Promise<string> } };
  console: { error(...values: unknown[]): void };
}

export interface BrowserHarness {
  app: TestApp;
  browser: Browser;
  /** The file's context (1280×800, light, clipboard granted); its pages share one cookie jar. */
  context: BrowserContext;
  /** The file's first page, in `context`. */
  page: Page;
  /** http://127.0.0.1:PORT: a secure context (navigator.clipboard works), unlike about:blank. */
  origin: string;
  admin: TestUser;
  alice: TestUser;
  /** Another context (its own cookies), watched like the first; closed with the browser. */
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<{ context: BrowserContext; page: Page }>;
  /** What went wrong in a page since the last check: console errors, CSP violations, Basic challenges. */
  problems: string[];
  /** Every 401 the pages received from /graphql (with its WWW-Authenticate header, if any). */
  unauthorized: Array<{ url: string; wwwAuthenticate: string | undefined }>;
}

/**
 * Starts the server, Chromium and a context in beforeAll, with a site admin (admin@example.org)
 * and a user (alice@example.org) and key generation on; checks each test's pages in afterEach.
 * Returns a getter: the harness exists only once beforeAll ran.
 */
export function useBrowser(env: Record<string, string> = {}, setup: { keysEnabled?: boolean } = {}): () => BrowserHarness {
  let harness: BrowserHarness | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`CI=true and no Chromium at ${CHROMIUM_PATH}: the browser tests must run in CI (.ci/run installs the chromium package)`);
    const webIndex = path.join(__dirname, "..", "..", "dist", "web", "index.html");
    if (!fs.existsSync(webIndex)) throw new Error("dist/web/index.html is missing: run `npm run build:web` (jest's globalSetup builds it when web/ exists)");
    const app = await startTestApp(env);
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: LAUNCH_ARGS });
    const origin = `http://127.0.0.1:${app.port}`;
    const problems: string[] = [];
    const unauthorized: BrowserHarness["unauthorized"] = [];

    const newContext: BrowserHarness["newContext"] = async (options = {}) => {
      const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, colorScheme: "light", baseURL: origin, locale: "en-US", timezoneId: "UTC" });
      contexts.push(context);
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
      // Injected by the driver, so the page's CSP does not apply to it; violations become console errors.
      await context.addInitScript(() => {
        const page = globalThis as unknown as InPage;
        page.document.addEventListener("securitypolicyviolation", (event) => {
          page.console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
        });
      });
      context.setDefaultTimeout(15_000);
      context.on("page", (page) => watch(page, problems, unauthorized));
      const page = await context.newPage();
      return { context, page };
    };

    if (setup.keysEnabled ?? true) await app.setKeysEnabled(true);
    const admin = await app.createUser("admin@example.org", { isAdmin: true });
    const alice = await app.createUser("alice@example.org");
    const { context, page } = await newContext();
    harness = { app, browser, context, page, origin, admin, alice, newContext, problems, unauthorized };
  }, 60_000);

  afterEach(() => {
    if (!harness) return;
    const found = harness.problems.splice(0);
    expect(found).toEqual([]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await harness?.browser.close();
    await harness?.app.close();
  });

  return () => {
    if (!harness) throw new Error("the browser harness starts in beforeAll");
    return harness;
  };
}

/**
 * Chromium logs a failed fetch's status as a console error ("Failed to load resource: … 401"):
 * the pages receive 401/403/429 on purpose in these flows, so only those lines are let through.
 * (The page names its icon inline, `data:,`, so the browser asks for no /favicon.ico.)
 */
const EXPECTED_CONSOLE = /^Failed to load resource: the server responded with a status of (401|403|429)\b/;

function watch(page: Page, problems: string[], unauthorized: BrowserHarness["unauthorized"]): void {
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    if (EXPECTED_CONSOLE.test(text)) return;
    const source = message.location().url;
    problems.push(`console error on ${page.url()}: ${text}${source ? ` (${source})` : ""}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught error on ${page.url()}: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() !== 401 || !new URL(response.url()).pathname.startsWith("/graphql")) return;
    const wwwAuthenticate = response.headers()["www-authenticate"];
    unauthorized.push({ url: response.url(), wwwAuthenticate });
    if (wwwAuthenticate !== undefined) problems.push(`a 401 from ${response.url()} to the page carries WWW-Authenticate: ${wwwAuthenticate} (the browser would show its Basic dialog)`);
  });
}

/** Logs in through the login page (the page is expected to be on /login, or is sent there). */
export async function logIn(page: Page, user: { email: string; password: string }): Promise<void> {
  if (!new URL(page.url(), "http://x").pathname.startsWith("/login")) await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

/** Opens the header's user menu and returns the menu. */
export async function openUserMenu(page: Page, user: { email: string }) {
  await page.getByRole("banner").getByRole("button", { name: new RegExp(escapeRegExp(user.email.split("@")[0]), "i") }).click();
  const menu = page.getByRole("menu");
  await menu.waitFor();
  return menu;
}

/** Logs out through the header's menu. */
export async function logOut(page: Page, user: { email: string }): Promise<void> {
  const menu = await openUserMenu(page, user);
  await menu.getByRole("menuitem", { name: "Log out" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/login"));
}

/** Whether the page scrolls sideways at its current width (a 375-px phone must not). */
export function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => {
    const inPage = globalThis as unknown as InPage;
    return { scrollWidth: inPage.document.documentElement.scrollWidth, clientWidth: inPage.innerWidth };
  });
}

/** Saves docs/screenshots/<name>.png when UPDATE_SCREENSHOTS=1; otherwise does nothing. */
export async function screenshot(page: Page, name: string, mask: Locator[] = []): Promise<void> {
  if (!updatingScreenshots) return;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // No caret blinking and no animations: the same page gives the same picture. `mask` paints a
  // solid box over secrets (a generated key): no secret ends up in a committed file.
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), animations: "disabled", caret: "hide", mask, maskColor: "#d0d4da" });
}

/** A GraphQL request made by the page itself (its cookies, the pages' x-requested-with header). */
export function graphqlFromPage(page: Page, query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: any; wwwAuthenticate: string | null }> {
  return page.evaluate(
    async ({ query, variables }) => {
      const response = await fetch("/graphql", { method: "POST", headers: { "content-type": "application/json", "x-requested-with": "XMLHttpRequest" }, body: JSON.stringify({ query, variables }) });
      return { status: response.status, body: await response.json(), wwwAuthenticate: response.headers.get("www-authenticate") };
    },
    { query, variables },
  );
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Waits until `check` holds (polling, no fixed sleep); fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the element has the keyboard focus. */
export function focused(locator: Locator, what: string): Promise<void> {
  return eventually(`${what} has the focus`, () => locator.evaluate((element) => element === (globalThis as unknown as InPage).document.activeElement).catch(() => false));
}

/** The text an element's aria-describedby points to: what a screen reader reads after its name. */
export function describedBy(locator: Locator): Promise<string> {
  return locator.evaluate((element) => {
    const { document } = globalThis as unknown as InPage;
    const ids = ((element as unknown as { getAttribute(name: string): string | null }).getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
    return ids.map((id: string) => document.getElementById(id)?.textContent ?? "").join(" ").replace(/\s+/g, " ").trim();
  });
}

/** The pathname + search of the page's URL. */
export function pathOf(page: Page): string {
  const url = new URL(page.url());
  return url.pathname + url.search;
}
