import type { Page } from "playwright-core";
import { basic, type Credentials, type TestUser, viaKey } from "../support/app";
import { describedBy, describeInBrowser, escapeRegExp, focused, graphqlFromPage, horizontalOverflow, logIn, openUserMenu, PHONE, screenshot, useBrowser } from "../support/browser";

/**
 * The site admin's pages in Chromium: External Tool Settings, Users and the API Keys grid, and
 * that a user who is not an admin can neither see nor reach them nor run their operations. Key
 * generation starts off here: the admin turns it on. The tests run in order as one admin's visit.
 */
const harness = useBrowser({}, { keysEnabled: false });

const DAY = 24 * 3600_000;
/** More keys match the bulk filter than one grid page holds, so "select all matching" is offered. */
const BULK_KEYS = 55;

async function seedKey(user: TestUser & { isAdmin?: boolean }, description: string): Promise<{ key: string; hint: string }> {
  const { app } = harness();
  const { key, apiKey } = await app.services.apiKeys.generate({ userId: user.id, email: user.email, ip: null, isAdmin: user.isAdmin ?? false }, { description });
  app.secrets.add(key);
  return { key, hint: apiKey.hint };
}

async function whoAmI(credentials: Credentials) {
  return harness().app.graphql("{ me { email } }", {}, credentials);
}

async function keyStatus(key: string): Promise<number> {
  return (await whoAmI(viaKey(key))).status;
}

function gridRow(page: Page, text: string) {
  return page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: text });
}

async function applyFilters(page: Page, filters: { email?: string; description?: string }) {
  const search = page.getByRole("search");
  await search.getByRole("button", { name: "Clear filters" }).click();
  if (filters.email !== undefined) await search.getByLabel("User email").fill(filters.email);
  if (filters.description !== undefined) await search.getByLabel("Description contains").fill(filters.description);
  await search.getByRole("button", { name: "Apply filters" }).click();
}

describeInBrowser("admin pages (Chromium)", () => {
  test("a user who is not an admin sees no admin entries, reaches no admin page and runs no admin operation", async () => {
    const { app, alice, newContext } = harness();
    const { page } = await newContext();
    await page.goto("/access");
    await logIn(page, alice);
    const menu = await openUserMenu(page, alice);
    await menu.getByRole("menuitem", { name: "External Tool Access" }).waitFor();
    await menu.getByRole("menuitem", { name: "Log out" }).waitFor();
    const entries = await menu.getByRole("menuitem").allInnerTexts();
    expect(entries.some((entry) => /External Tool Settings|API Keys|Users/.test(entry))).toBe(false);
    await page.keyboard.press("Escape");

    for (const adminPath of ["/settings", "/admin/keys", "/admin/users"]) {
      await page.goto(adminPath);
      await page.getByRole("heading", { level: 1, name: "Not allowed" }).waitFor();
      await page.getByText("This page is for site administrators.").waitFor();
    }

    // The operations themselves, sent with the page's own session: refused.
    const update = await graphqlFromPage(page, "mutation { updateExternalToolSettings(input: { apiKeysEnabled: true }) { apiKeysEnabled } }");
    expect(update.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const list = await graphqlFromPage(page, "{ apiKeys(first: 5) { totalCount } }");
    expect(list.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const revoke = await graphqlFromPage(page, "mutation { revokeApiKeysWhere(filter: {}, dryRun: false) }");
    expect(revoke.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await app.services.settings.get()).apiKeysEnabled).toBe(false);
  });

  test("External Tool Settings: turn on API keys and session keys, 30 days; saved", async () => {
    const { page, app, admin } = harness();
    await page.goto("/access");
    await logIn(page, admin);
    await page.getByText("API key generation is currently not enabled on this server.").waitFor();
    const menu = await openUserMenu(page, admin);
    for (const entry of ["External Tool Access", "Account", "API Keys", "Users", "Log out"]) await menu.getByRole("menuitem", { name: entry }).waitFor();
    await menu.getByRole("menuitem", { name: "External Tool Settings" }).click();
    await page.getByRole("heading", { level: 1, name: "External Tool Settings" }).waitFor();
    await page.getByRole("link", { name: "API Keys" }).waitFor();

    await page.getByRole("checkbox", { name: "Allow users to generate API keys" }).check();
    await page.getByRole("checkbox", { name: "Allow users to generate session keys" }).check();
    await page.getByLabel("API key expiration").selectOption({ label: "30 days" });
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
    await screenshot(page, "settings");
    const saved = await app.services.settings.get();
    expect({ apiKeysEnabled: saved.apiKeysEnabled, sessionKeysEnabled: saved.sessionKeysEnabled, apiKeyExpiration: saved.apiKeyExpiration }).toEqual({ apiKeysEnabled: true, sessionKeysEnabled: true, apiKeyExpiration: "DAYS_30" });
  });

  test("a key generated under the 30-day policy says so in the dialog and lists its expiry", async () => {
    const { page, app } = harness();
    const menu = await openUserMenu(page, harness().admin);
    await menu.getByRole("menuitem", { name: "External Tool Access" }).click();
    await page.getByRole("button", { name: "Generate Session Key" }).waitFor();
    await page.getByRole("button", { name: "Generate API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Generate API Key" });
    await dialog.getByText("This key will expire in 30 days.").waitFor();
    await dialog.getByLabel("Description").fill("deploy pipeline");
    const before = Date.now();
    await dialog.getByRole("button", { name: "Generate API Key" }).click();
    const shown = dialog.getByRole("textbox", { name: "Your new API key" });
    await shown.waitFor();
    const key = await shown.inputValue();
    app.secrets.add(key);
    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "hidden" });

    const row = page.getByRole("table", { name: "Your API keys" }).getByRole("row").filter({ hasText: "deploy pipeline" });
    // Columns: Description, Hint, Created, Expires, …; the date's ISO value is in <time datetime>.
    const expires = await row.getByRole("cell").nth(3).locator("time").getAttribute("datetime");
    const expiresAt = Date.parse(expires ?? "");
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY - 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * DAY + 60_000);
    expect(await keyStatus(key)).toBe(200);
  });

  test("Users: every user with their key count", async () => {
    const { page, alice } = harness();
    await page.goto("/admin/users");
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    const users = page.getByRole("table", { name: "Users" });
    // Cells after the email (the row header): Name, Admin, Active, Keys, Last activity.
    const keysOf = (email: string) => users.getByRole("row").filter({ hasText: email }).getByRole("cell").nth(3).innerText();
    expect((await keysOf("admin@example.org")).trim()).toBe("1"); // the 30-day key just made
    expect((await keysOf(alice.email)).trim()).toBe("0");
    await page.getByRole("button", { name: `Reset password for ${alice.email}` }).waitFor();
    await screenshot(page, "users");
  });

  test("Users: resetting a password asks first, Cancel focused; confirmed, the one-time password is shown once, the old password stops, their key keeps working", async () => {
    const { page, app } = harness();
    const forgetful = await app.createUser("forgetful@example.org");
    const { key } = await seedKey(forgetful, "forgetful script");
    await page.goto("/admin/users");

    const resetButton = page.getByRole("button", { name: `Reset password for ${forgetful.email}` });
    await resetButton.click();
    const confirm = page.getByRole("alertdialog", { name: `Reset the password of ${forgetful.email}?` });
    expect(await describedBy(confirm)).toMatch(/^Their current password stops working at once .*Their API keys keep working\.$/);
    await focused(confirm.getByRole("button", { name: "Cancel" }), "Cancel");
    await page.keyboard.press("Enter"); // Enter by habit cancels.
    await confirm.waitFor({ state: "hidden" });
    await focused(resetButton, "the Reset password button that opened the dialog");
    expect((await whoAmI(basic(forgetful.email, forgetful.password))).status).toBe(200);

    await resetButton.click();
    await confirm.getByRole("button", { name: "Reset password" }).click();
    const shown = page.getByRole("dialog", { name: "One-time password" });
    const oneTime = await shown.getByRole("textbox", { name: "One-time password" }).inputValue();
    app.secrets.add(oneTime);
    expect(oneTime).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await shown.getByText("This password will not be shown again.").waitFor();
    await shown.getByRole("button", { name: "Done" }).click();
    await shown.waitFor({ state: "hidden" });
    await expect(page.getByRole("textbox", { name: "One-time password" }).count()).resolves.toBe(0);

    expect((await whoAmI(basic(forgetful.email, forgetful.password))).status).toBe(401);
    const withOneTime = await whoAmI(basic(forgetful.email, oneTime));
    expect(withOneTime.status).toBe(403);
    expect(withOneTime.body.errors?.[0]?.extensions?.reason).toBe("PASSWORD_CHANGE_REQUIRED");
    expect(await keyStatus(key)).toBe(200);
  });

  test("Users: create a user with the form; deleting them asks first, Cancel focused, naming their keys; confirmed, their key stops", async () => {
    const { page, app } = harness();
    await page.goto("/admin/users");
    const form = page.getByRole("form", { name: "Create user" });
    app.secrets.add("leaving-Secret-2026");
    await form.getByLabel("Email").fill("leaving@example.org");
    const password = form.getByLabel("Password");
    expect(await describedBy(password)).toMatch(/^At least 12 characters/);
    await password.fill("leaving-Secret-2026");
    await form.getByRole("button", { name: "Create user" }).click();
    await form.getByRole("status").filter({ hasText: "User created." }).waitFor();
    const [{ id }] = await app.db.dataSource.query("SELECT id FROM users WHERE email = ?", ["leaving@example.org"]);
    const { key } = await seedKey({ id: Number(id), email: "leaving@example.org", password: "leaving-Secret-2026" }, "leaving script");
    expect(await keyStatus(key)).toBe(200);
    await page.reload();

    const deleteButton = page.getByRole("button", { name: "Delete leaving@example.org" });
    await deleteButton.click();
    const confirm = page.getByRole("alertdialog", { name: "Delete leaving@example.org?" });
    expect(await describedBy(confirm)).toMatch(/^Their 1 API key is deleted too\. .*This cannot be undone\.$/);
    await focused(confirm.getByRole("button", { name: "Cancel" }), "Cancel");
    await page.keyboard.press("Enter"); // Enter by habit cancels.
    await confirm.waitFor({ state: "hidden" });
    await focused(deleteButton, "the Delete button that opened the dialog");
    expect(await keyStatus(key)).toBe(200);

    await deleteButton.click();
    await confirm.getByRole("button", { name: "Delete user" }).click();
    await page.getByRole("status").filter({ hasText: "leaving@example.org deleted." }).waitFor();
    await page.getByRole("table", { name: "Users" }).getByRole("row").filter({ hasText: "leaving@example.org" }).waitFor({ state: "detached" });
    expect(await keyStatus(key)).toBe(401);
  });

  test("API Keys grid: filter by user, select two rows and delete them; those keys stop", async () => {
    const { page, alice, admin } = harness();
    const reports = [];
    for (let n = 1; n <= 3; n++) reports.push(await seedKey(alice, `report ${n}`));
    const adminKey = await seedKey({ ...admin, isAdmin: true }, "admin tooling");

    await page.goto("/settings");
    await page.getByRole("link", { name: "API Keys" }).click();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    await gridRow(page, "admin tooling").waitFor();
    await screenshot(page, "api-keys");

    await applyFilters(page, { email: alice.email });
    await page.getByText("3 keys match").waitFor();
    await gridRow(page, "admin tooling").waitFor({ state: "detached" });
    for (const picked of reports.slice(0, 2)) await page.getByRole("checkbox", { name: `Select key ${picked.hint}` }).check();
    await page.getByRole("button", { name: "Delete selected" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Delete 2 API keys?" });
    await confirm.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("status").filter({ hasText: "2 keys deleted." }).waitFor();
    await gridRow(page, "report 1").waitFor({ state: "detached" });
    await gridRow(page, "report 2").waitFor({ state: "detached" });
    await gridRow(page, "report 3").waitFor();

    expect(await keyStatus(reports[0].key)).toBe(401);
    expect(await keyStatus(reports[1].key)).toBe(401);
    expect(await keyStatus(reports[2].key)).toBe(200);
    expect(await keyStatus(adminKey.key)).toBe(200);
  });

  test("API Keys grid: select all keys matching a filter (more than a page) and delete them; those keys stop, the others work", async () => {
    const { page, alice } = harness();
    const bulk = [];
    for (let n = 1; n <= BULK_KEYS; n++) bulk.push(await seedKey(alice, `bulk import ${n}`));

    await page.reload();
    await applyFilters(page, { description: "bulk" });
    await page.getByText(`${BULK_KEYS} keys match`).waitFor();
    await page.getByRole("checkbox", { name: "Select all on this page" }).check();
    await page.getByRole("button", { name: `Select all ${BULK_KEYS} matching keys` }).click();
    await page.getByText(`All ${BULK_KEYS} matching keys are selected.`).waitFor();
    await page.getByRole("button", { name: "Delete selected" }).click();
    const confirm = page.getByRole("alertdialog", { name: `Delete ${BULK_KEYS} API keys?` });
    await confirm.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("status").filter({ hasText: `${BULK_KEYS} keys deleted.` }).waitFor();
    await page.getByText(/^0 keys match/).waitFor();

    const statuses = await Promise.all(bulk.map((seeded) => keyStatus(seeded.key)));
    expect(statuses.filter((status) => status !== 401)).toEqual([]);
    // Keys outside the filter stay.
    await applyFilters(page, {});
    await gridRow(page, "report 3").waitFor();
    await gridRow(page, "admin tooling").waitFor();
  });

  test("375 px wide: no admin page (nor the others) scrolls sideways", async () => {
    const { admin, newContext } = harness();
    const { page } = await newContext({ viewport: PHONE });
    await page.goto("/login");
    await page.getByRole("heading", { level: 1, name: "Log in" }).waitFor();
    const widths: Record<string, number> = { "/login": (await horizontalOverflow(page)).scrollWidth };
    await logIn(page, admin);
    const pages: Array<[string, string]> = [
      ["/access", "External Tool Access"],
      ["/account", "Account"],
      ["/settings", "External Tool Settings"],
      ["/admin/users", "Users"],
      ["/admin/keys", "API Keys"],
    ];
    for (const [pagePath, heading] of pages) {
      await page.goto(pagePath);
      await page.getByRole("heading", { level: 1, name: new RegExp(`^${escapeRegExp(heading)}$`) }).waitFor();
      // Wait for the page's data (its table or form) before measuring.
      await page.getByRole("banner").waitFor();
      await page.locator("main table, main form").first().waitFor();
      widths[pagePath] = (await horizontalOverflow(page)).scrollWidth;
    }
    expect(Object.entries(widths).filter(([, width]) => width > PHONE.width)).toEqual([]);
  });

  // Last: it ends every key the earlier tests rely on.
  test("API Keys grid: Revoke all asks first with the count, Cancel focused; confirmed, every API key on the server stops", async () => {
    const { page, alice, admin } = harness();
    const keys = [await seedKey(alice, "revoke-all alice"), await seedKey({ ...admin, isAdmin: true }, "revoke-all admin")];
    const storedKeys = async () => Number((await harness().app.db.dataSource.query("SELECT COUNT(*) AS n FROM api_keys"))[0].n);
    const before = await storedKeys();
    await page.goto("/admin/keys");
    await page.getByRole("button", { name: "Revoke all" }).click();
    const confirm = page.getByRole("alertdialog", { name: /^Revoke all \d+ API keys on the server\?$/ });
    const count = Number(/\d+/.exec(await confirm.getByRole("heading").innerText())![0]);
    expect(count).toBe(before);
    expect(await describedBy(confirm)).toMatch(/^Every user's API keys stop working at once, yours too\./);
    await focused(confirm.getByRole("button", { name: "Cancel" }), "Cancel");
    await confirm.getByRole("button", { name: "Revoke all" }).click();
    await page.getByRole("status").filter({ hasText: `${count} keys deleted.` }).waitFor();
    await page.getByText(/^0 keys match/).waitFor();
    expect(await Promise.all(keys.map((seeded) => keyStatus(seeded.key)))).toEqual([401, 401]);
    expect(await storedKeys()).toBe(0);
  });
});
