import { basic, startTestApp, type TestApp, viaKey } from "../support/app";

/**
 * Every test file ends with the session-wide checks in startTestApp().close(): no generated key or
 * password in any log line or any response other than generateApiKey's, no key-shaped text in any
 * log line, and no secret in clear in any table. These tests show the checks catch what they must.
 */
describe("secret-leak checks", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  test("a full session of key use, failures and errors leaves no secret in logs, responses or tables", async () => {
    const user = await app.createUser("leak@example.org", { isAdmin: true });
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(user);
    await app.graphql("{ me { email } }", undefined, viaKey(key));
    await app.graphql("{ me { email } }", undefined, viaKey(key.slice(0, -1) + (key.endsWith("a") ? "b" : "a"))); // wrong checksum
    await app.graphql("{ me { email } }", undefined, basic(user.email, user.password + "x"));
    await app.graphql("{ me { email } }", undefined, { apikey: `apikey|${key}` });
    // A password sent as a wrong-shaped variable is not echoed back.
    await app.graphql("mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }", { input: { email: 123, password: user.password } }, viaKey(key));
    await app.graphql("mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }", { input: { email: "x@y.org", password: "short" } }, viaKey(key));
    expect(() => app.assertNoSecretLeaks()).not.toThrow();
  });

  test("the check fails on a key in a log line, a secret in a response, or a secret stored in clear", async () => {
    const user = await app.createUser("probe@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(user);

    app.logLines.push(`{"msg":"oops","value":"${key}"}`);
    expect(() => app.assertNoSecretLeaks()).toThrow(/log line/);
    app.logLines.pop();

    app.responses.push({ query: "{ me { email } }", body: `{"data":{"echo":"${user.password}"}}` });
    expect(() => app.assertNoSecretLeaks()).toThrow(/response/);
    app.responses.pop();

    app.logLines.push(`{"msg":"untracked","value":"xta_${"A".repeat(49)}"}`);
    expect(() => app.assertNoSecretLeaks()).toThrow(/key-shaped/);
    app.logLines.pop();
    expect(() => app.assertNoSecretLeaks()).not.toThrow();

    // Stored in clear on purpose, in a column no code path writes a secret to.
    await app.db.dataSource.query("UPDATE api_keys SET description = ? WHERE owner_id = ?", [`copy of ${key}`, user.id]);
    await expect(app.assertNoSecretsAtRest()).rejects.toThrow(/stored in clear in table api_keys/);
    await app.db.dataSource.query("UPDATE users SET display_name = ? WHERE id = ?", [user.password, user.id]);
    await app.db.dataSource.query("UPDATE api_keys SET description = NULL WHERE owner_id = ?", [user.id]);
    await expect(app.assertNoSecretsAtRest()).rejects.toThrow(/stored in clear in table users/);
    await app.db.dataSource.query("UPDATE users SET display_name = NULL WHERE id = ?", [user.id]);
    await expect(app.assertNoSecretsAtRest()).resolves.toBeUndefined();
  });

  test("the database holds no key and no password in clear (read directly)", async () => {
    const user = await app.createUser("rest@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(user);
    for (const table of ["users", "api_keys", "external_tool_settings"]) {
      const text = JSON.stringify(await app.db.dataSource.query(`SELECT * FROM ${table}`));
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(4, 40)); // not even the random body without prefix and checksum
      expect(text).not.toContain(user.password);
    }
  });
});
