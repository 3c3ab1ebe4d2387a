import { basic, errorCode, startTestApp, type TestApp, type TestUser } from "../support/app";

const UPDATE = `mutation Retention($days: Int) { updateExternalToolSettings(input: { expiredKeyRetentionDays: $days }) { expiredKeyRetentionDays apiKeysEnabled } }`;

describe("expiredKeyRetentionDays over GraphQL", () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    await app.services.settings.update({ expiredKeyRetentionDays: 30 });
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    user = await app.createUser("user@example.org");
  });
  afterAll(async () => {
    await app.close();
  });

  test("anyone reads it; 30 days by default", async () => {
    const result = await app.graphql("{ externalToolSettings { expiredKeyRetentionDays } }");
    expect(result.body.data).toEqual({ externalToolSettings: { expiredKeyRetentionDays: 30 } });
  });

  test("admin sets 0 and 3650; other settings are left alone", async () => {
    for (const days of [0, 3650]) {
      const result = await app.graphql(UPDATE, { days }, basic(admin.email, admin.password));
      expect(result.body.data?.updateExternalToolSettings).toEqual({ expiredKeyRetentionDays: days, apiKeysEnabled: false });
    }
    expect((await app.services.settings.get()).expiredKeyRetentionDays).toBe(3650);
  });

  test("outside 0..3650: BAD_USER_INPUT (400), unchanged", async () => {
    for (const days of [-1, 3651]) {
      const result = await app.graphql(UPDATE, { days }, basic(admin.email, admin.password));
      expect([days, result.status, errorCode(result)]).toEqual([days, 400, "BAD_USER_INPUT"]);
    }
    expect((await app.services.settings.get()).expiredKeyRetentionDays).toBe(30);
  });

  test("non-admin: FORBIDDEN, unchanged", async () => {
    const result = await app.graphql(UPDATE, { days: 1 }, basic(user.email, user.password));
    expect(errorCode(result)).toBe("FORBIDDEN");
    expect((await app.services.settings.get()).expiredKeyRetentionDays).toBe(30);
  });
});
