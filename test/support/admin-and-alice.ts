import { startTestApp, type TestApp, type TestUser } from "./app";

/**
 * One server per test file; before each test an emptied database with key generation on, a site
 * admin (admin@example.org) and a user (alice@example.org), handed to `use`.
 */
export function withAdminAndAlice(use: (app: TestApp, admin: TestUser, alice: TestUser) => void, env: Record<string, string> = {}): void {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(env);
  });
  beforeEach(async () => {
    await app.reset();
    await app.setKeysEnabled(true);
    use(app, await app.createUser("admin@example.org", { isAdmin: true }), await app.createUser("alice@example.org"));
  });
  afterAll(async () => {
    await app?.close();
  });
}
