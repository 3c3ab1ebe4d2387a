import pino from "pino";
import type { DataSource } from "typeorm";
import { createDataSource } from "../../src/db/data-source";
import { SYSTEM_ACTOR } from "../../src/entities/audit-event.entity";
import { createServices, type Services } from "../../src/services";
import { startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

/**
 * The key cache against revocations made by another instance: a second DataSource and service
 * set on the same database, as a second server or the admin CLI would have. No revocation may be
 * outlived by a cached lookup once it has returned.
 */
describe("key cache across instances", () => {
  let app: TestApp;
  let other: { dataSource: DataSource; services: Services };
  let alice: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    const dataSource = createDataSource(app.db.config);
    await dataSource.initialize();
    other = { dataSource, services: createServices(dataSource, app.config, pino({ level: "silent" }), { bcryptCost: 4 }) };
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await other.dataSource.destroy();
    await app.close();
  });

  const status = async (key: string) => (await app.graphql("{ me { id } }", undefined, viaKey(key))).status;

  async function cachedKey(): Promise<{ key: string; id: string }> {
    const generated = await app.generateKey(alice);
    for (let i = 0; i < 3; i++) await expect(status(generated.key)).resolves.toBe(200);
    expect(app.services.revocations.cache.size).toBeGreaterThan(0);
    return generated;
  }

  test("key revoked on another instance: 401 as soon as that revocation returns", async () => {
    const { key, id } = await cachedKey();
    await expect(other.services.apiKeys.revoke(SYSTEM_ACTOR, [id])).resolves.toBe(1);
    await expect(status(key)).resolves.toBe(401);
  });

  test("all keys revoked on another instance: 401 as soon as that revocation returns", async () => {
    const { key } = await cachedKey();
    await other.services.apiKeys.revokeAll(SYSTEM_ACTOR);
    await expect(status(key)).resolves.toBe(401);
  });

  test("owner deactivated on another instance: 401 as soon as that returns; reactivated: 200 again", async () => {
    const { key } = await cachedKey();
    await other.services.users.setActive(String(alice.id), false, SYSTEM_ACTOR);
    await expect(status(key)).resolves.toBe(401);
    await other.services.users.setActive(String(alice.id), true, SYSTEM_ACTOR);
    await expect(status(key)).resolves.toBe(200);
  });

  test("key rotated on another instance without overlap: the old key 401, the new one 200", async () => {
    const { key, id } = await cachedKey();
    const rotated = await other.services.apiKeys.rotate({ userId: alice.id, email: alice.email, isAdmin: false, ip: null }, { id });
    app.secrets.add(rotated.key);
    await expect(status(key)).resolves.toBe(401);
    await expect(status(rotated.key)).resolves.toBe(200);
  });

  test("a revocation waits out the cache window before it returns", async () => {
    const { id } = await app.generateKey(alice);
    const started = performance.now();
    await other.services.apiKeys.revoke(SYSTEM_ACTOR, [id]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(app.config.keyCacheWindowMs);
  });
});
