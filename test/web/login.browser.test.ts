import type { Page } from "playwright-core";
import { describeInBrowser, eventually, logIn, openUserMenu, pathOf, screenshot, useBrowser } from "../support/browser";

/**
 * The login page and the session around it, in Chromium: the way in, the way back after a session
 * ends, no Basic-auth dialog, and the password throttle. AUTH_FAILURE_LIMIT=19 makes the 20th
 * wrong password in a row the throttled one; TRUST_PROXY=1 lets the throttle test come from its
 * own client IP (X-Forwarded-For), so the other tests' refused requests do not count against it.
 */
const harness = useBrowser({ AUTH_FAILURE_LIMIT: "19", TRUST_PROXY: "1" });

/** The login mutation's response, whatever it says. */
function loginResponse(page: Page) {
  return page.waitForResponse((response) => new URL(response.url()).pathname === "/graphql" && /\blogin\b/.test(response.request().postData() ?? ""));
}

describeInBrowser("login page (Chromium)", () => {
  test("a page visited without a session sends the person to the login page; the 401 carries no Basic challenge", async () => {
    const { page, unauthorized } = harness();
    await page.goto("/account");
    await page.waitForURL((url) => url.pathname === "/login");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/account");
    await page.getByRole("heading", { level: 1, name: "Log in" }).waitFor();
    // The pages learnt there was no session from a 401 to /graphql: the browser saw no challenge.
    expect(unauthorized.length).toBeGreaterThan(0);
    expect(unauthorized.filter((response) => response.wwwAuthenticate !== undefined)).toEqual([]);
    await screenshot(page, "login");
  });

  test("log in: back to the page asked for, the header names the person", async () => {
    const { page, alice } = harness();
    await logIn(page, alice);
    expect(pathOf(page)).toBe("/account");
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
    const menu = await openUserMenu(page, alice);
    await menu.getByRole("menuitem", { name: "External Tool Access" }).waitFor();
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "hidden" });
  });

  test("a session that ends mid-use sends the person to the login page, then back to where they were", async () => {
    const { page, app, alice } = harness();
    await page.goto("/access");
    await page.getByRole("heading", { level: 1, name: "External Tool Access" }).waitFor();
    // The session ends behind the page's back (as the idle timeout or an admin would end it).
    expect(await app.services.sessions.endAllForUser(alice.id)).toBe(1);
    const menu = await openUserMenu(page, alice);
    await menu.getByRole("menuitem", { name: "Account" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/account");
    await logIn(page, alice);
    expect(pathOf(page)).toBe("/account");
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
  });

  test("a wrong password says so; the 20th wrong password in a row shows the throttle message", async () => {
    const { app, newContext } = harness();
    const bob = await app.createUser("bob@example.org");
    const { context, page } = await newContext();
    // A client IP of its own, so the other tests' failures from 127.0.0.1 do not count here.
    await context.setExtraHTTPHeaders({ "x-forwarded-for": "203.0.113.20" });
    await page.goto("/login");
    const alert = page.getByRole("alert");
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 20; attempt++) {
      await page.getByLabel("Email").fill(bob.email);
      await page.getByLabel("Password", { exact: true }).fill(`wrong password ${attempt}`);
      const answered = loginResponse(page);
      await page.getByRole("button", { name: "Log in" }).click();
      const status = (await answered).status();
      statuses.push(status);
      // The same message twice in a row looks unchanged: the status says which one is due.
      const due = status === 429 ? /Too many failed attempts/ : /Wrong email or password\./;
      await eventually(`the login page says ${due} (attempt ${attempt})`, async () => due.test(await alert.innerText().catch(() => "")));
    }
    expect(statuses.slice(0, 19).filter((status) => status === 429)).toEqual([]);
    expect(statuses[19]).toBe(429);
    // Still refused with the right password: the throttle holds whatever is typed.
    await page.getByLabel("Password", { exact: true }).fill(bob.password);
    const answered = loginResponse(page);
    await page.getByRole("button", { name: "Log in" }).click();
    expect((await answered).status()).toBe(429);
    expect(pathOf(page)).toMatch(/^\/login/);
  });
});
