import { basic, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const UPDATE = "mutation($input: ExternalToolSettingsInput!) { updateExternalToolSettings(input: $input) { apiKeysEnabled apiKeyExpiration sessionKeysEnabled } }";
const READ = "{ externalToolSettings { apiKeysEnabled apiKeyExpiration sessionKeysEnabled } }";

describe("external tool settings resolver", () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
  });
  afterAll(async () => {
    await app.close();
  });

  test("defaults: keys off (as LabKey), never expire, session keys off", async () => {
    expect((await app.graphql(READ)).body.data.externalToolSettings).toEqual({ apiKeysEnabled: false, apiKeyExpiration: "NEVER", sessionKeysEnabled: false });
  });

  test("admin update changes only the given fields and persists", async () => {
    const first = await app.graphql(UPDATE, { input: { apiKeysEnabled: true } }, basic(admin.email, admin.password));
    expect(first.body.data.updateExternalToolSettings).toEqual({ apiKeysEnabled: true, apiKeyExpiration: "NEVER", sessionKeysEnabled: false });
    await app.graphql(UPDATE, { input: { apiKeyExpiration: "DAYS_90", sessionKeysEnabled: true } }, basic(admin.email, admin.password));
    expect((await app.graphql(READ)).body.data.externalToolSettings).toEqual({ apiKeysEnabled: true, apiKeyExpiration: "DAYS_90", sessionKeysEnabled: true });
  });

  test("non-admin update: FORBIDDEN, nothing changes", async () => {
    const result = await app.graphql(UPDATE, { input: { apiKeysEnabled: true } }, basic(alice.email, alice.password));
    expect(result.status).toBe(403);
    expect(errorCode(result)).toBe("FORBIDDEN");
    expect((await app.graphql(READ)).body.data.externalToolSettings.apiKeysEnabled).toBe(false);
  });

  test("an unknown expiration value: BAD_USER_INPUT", async () => {
    const result = await app.graphql(UPDATE, { input: { apiKeyExpiration: "DAYS_2" } }, basic(admin.email, admin.password));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
  });
});
