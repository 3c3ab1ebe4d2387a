import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { viaKey } from "../support/app";
import { describeInBrowser, escapeRegExp, focused, graphqlFromPage, horizontalOverflow, type InPage, type InPageNode, logIn, logOut, PHONE, screenshot, useBrowser } from "../support/browser";
import { findTool } from "../support/tools";

/**
 * External Tool Access as a user sees it, in Chromium: generate a key, copy it, use it from a
 * script (Basic over HTTP, and curl with a .netrc), find it listed, delete it; session keys;
 * generation turned off; the keyboard; a phone-sized screen. The tests run in order as one
 * person's visit (alice, logged in once).
 */
const harness = useBrowser();

const run = promisify(execFile);
const curl = findTool([["curl"]]);
const curlNotice = curl === undefined && process.env.CI !== "true";
if (curlNotice) console.warn("access.browser.test.ts: the .netrc steps are skipped: curl not found (apt-get install curl); under CI=true they fail instead.");

const ME = "{ me { email } }";

/** What a script gets for a request made with `key` (Basic apikey:<key>, from node). */
async function statusWithKey(key: string): Promise<{ status: number; email?: string }> {
  const result = await harness().app.graphql(ME, {}, viaKey(key));
  return { status: result.status, email: result.body.data?.me?.email };
}

/**
 * curl --netrc-file with the recipe the page shows (host = this server's): the HTTP status. Run
 * asynchronously: the server under test lives in this process and must keep answering.
 */
async function statusWithNetrc(key: string): Promise<number | undefined> {
  if (curlNotice) return undefined;
  const { origin } = harness();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "xta-netrc-"));
  const netrc = path.join(folder, "netrc");
  try {
    fs.writeFileSync(netrc, `machine ${new URL(origin).hostname}\nlogin apikey\npassword ${key}\n`, { mode: 0o600 });
    const { stdout } = await run(curl?.[0] ?? "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--netrc-file", netrc, "-X", "POST", "-H", "content-type: application/json", "--data", JSON.stringify({ query: ME }), `${origin}/graphql`], { timeout: 15_000 });
    return Number(stdout);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as InPage).navigator.clipboard.readText());
}

/** The row of the "Your API keys" table that shows `text`. */
function keyRow(page: Page, text: string) {
  return page.getByRole("table", { name: "Your API keys" }).getByRole("row").filter({ hasText: text });
}

describeInBrowser("External Tool Access (Chromium)", () => {
  let key = "";

  test("the page explains keys and shows the .netrc recipe for this host; no keys yet", async () => {
    const { page, alice, origin } = harness();
    await page.goto("/access");
    await logIn(page, alice);
    await page.getByRole("heading", { level: 1, name: "External Tool Access" }).waitFor();
    // The recipe names this server's host (on one line or three, as .netrc allows).
    await page.getByText(new RegExp(`machine\\s+${escapeRegExp(new URL(origin).hostname)}\\s+login\\s+apikey\\s+password`)).first().waitFor();
    await page.getByText("You have no API keys yet.").waitFor();
  });

  test("keyboard: the generate dialog opens with Enter, keeps the focus inside, closes with Escape and gives the focus back", async () => {
    const { page } = harness();
    const opener = page.getByRole("button", { name: "Generate API Key" });
    await opener.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Generate API Key" });
    await dialog.waitFor();
    // Tab around the dialog: the focus stays in it (a native modal dialog alone would let Tab pass
    // from its last control to the browser's own UI: the pages wrap it).
    const where: string[] = [];
    for (let step = 0; step < 8; step++) {
      await page.keyboard.press("Tab");
      where.push(
        await dialog.evaluate((element) => {
          const { document } = globalThis as unknown as InPage;
          const active = document.activeElement;
          if ((element as unknown as InPageNode).contains(active)) return "dialog";
          return active === null || active === document.body ? "browser" : "page";
        }),
      );
    }
    expect(where).toEqual(Array(8).fill("dialog"));
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await focused(opener, "the Generate API Key button");
  });

  test("generate a key with a description, copy it, use it from a script (Basic and .netrc); Done lists it", async () => {
    const { page, app, alice } = harness();
    await page.getByRole("button", { name: "Generate API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Generate API Key" });
    await dialog.getByText("This key will not expire.").waitFor();
    await dialog.getByLabel("Description").fill("nightly backup script");
    await dialog.getByText("21 / 256").waitFor();
    await dialog.getByRole("button", { name: "Generate API Key" }).click();

    const shown = dialog.getByRole("textbox", { name: "Your new API key" });
    await shown.waitFor();
    key = await shown.inputValue();
    app.secrets.add(key); // the suite's leak checks (logs, responses, tables) look for it too
    expect(key).toMatch(/^xta_/);
    await dialog.getByText("This key will not be shown again. Copy it now.").waitFor();
    await dialog.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("status").filter({ hasText: "Copied to the clipboard." }).waitFor();
    expect(await readClipboard(page)).toBe(key);
    await screenshot(page, "access-generate", [shown]);

    expect(await statusWithKey(await readClipboard(page))).toEqual({ status: 200, email: alice.email });
    const netrc = await statusWithNetrc(key);
    if (netrc !== undefined) expect(netrc).toBe(200);

    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "hidden" });
    await keyRow(page, "nightly backup script").waitFor();
    // Listed without the secret: the page shows it nowhere once the dialog is gone.
    expect(await page.content()).not.toContain(key);
  });

  test("delete the key (confirmed): it leaves the list and the script gets 401", async () => {
    const { page } = harness();
    const row = keyRow(page, "nightly backup script");
    await row.getByRole("button", { name: /^Delete key / }).click();
    const confirm = page.getByRole("alertdialog", { name: "Delete this API key?" });
    await confirm.getByRole("button", { name: "Delete" }).click();
    await confirm.waitFor({ state: "hidden" });
    await row.waitFor({ state: "detached" });
    await page.getByText("You have no API keys yet.").waitFor();
    expect((await statusWithKey(key)).status).toBe(401);
    const netrc = await statusWithNetrc(key);
    if (netrc !== undefined) expect(netrc).toBe(401);
  });

  test("account page: the password form and this login session", async () => {
    const { page } = harness();
    await page.goto("/account");
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
    await page.getByRole("heading", { name: "Change password" }).waitFor();
    await page.getByLabel("Current password").waitFor();
    await page.getByRole("table", { name: "Your login sessions" }).getByText("This session").waitFor();
    await screenshot(page, "account");
  });

  test("account page: End ends another login session of mine, which then gets 401", async () => {
    const { page, alice, newContext } = harness();
    const elsewhere = await newContext();
    await logIn(elsewhere.page, alice);
    expect((await graphqlFromPage(elsewhere.page, "{ me { email } }")).status).toBe(200);
    await page.goto("/account");
    const sessions = page.getByRole("table", { name: "Your login sessions" });
    await sessions.getByRole("button", { name: /^End session started / }).first().click();
    await page.getByRole("status").filter({ hasText: /has ended\./ }).waitFor();
    expect((await graphqlFromPage(elsewhere.page, "{ me { email } }")).status).toBe(401);
    await sessions.getByText("This session").waitFor();
    expect(await sessions.getByRole("button", { name: /^End session started / }).count()).toBe(0);
    await elsewhere.context.close();
  });

  test("a session key works until the person logs out, then 401", async () => {
    const { page, app, alice } = harness();
    await app.services.settings.update({ sessionKeysEnabled: true });
    await page.goto("/access");
    await page.getByRole("button", { name: "Generate Session Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Generate Session Key" });
    await dialog.getByRole("button", { name: "Generate Session Key" }).click();
    const shown = dialog.getByRole("textbox", { name: "Your new session key" });
    await shown.waitFor();
    const sessionKey = await shown.inputValue();
    app.secrets.add(sessionKey);
    await dialog.getByText("This key stops working when you log out or your login session ends.").waitFor();
    await dialog.getByRole("button", { name: "Copy" }).click();
    expect(await readClipboard(page)).toBe(sessionKey);
    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "hidden" });

    expect(await statusWithKey(sessionKey)).toEqual({ status: 200, email: alice.email });
    await logOut(page, alice);
    expect((await statusWithKey(sessionKey)).status).toBe(401);
  });

  test("generation turned off: the page says so and offers no Generate API Key button", async () => {
    const { page, app, alice } = harness();
    await app.services.settings.update({ apiKeysEnabled: false, sessionKeysEnabled: false });
    await logIn(page, alice);
    await page.goto("/access");
    await page.getByText("API key generation is currently not enabled on this server.").waitFor();
    expect(await page.getByRole("button", { name: "Generate API Key" }).count()).toBe(0);
    await app.services.settings.update({ apiKeysEnabled: true });
  });

  test("375 px wide: the access page has no horizontal scroll", async () => {
    const { alice, newContext } = harness();
    const { page } = await newContext({ viewport: PHONE });
    await page.goto("/access");
    await logIn(page, alice);
    await page.getByRole("heading", { level: 1, name: "External Tool Access" }).waitFor();
    await page.getByRole("button", { name: "Generate API Key" }).waitFor();
    const { scrollWidth } = await horizontalOverflow(page);
    expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, "access-phone");
  });
});
