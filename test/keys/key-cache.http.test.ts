import pino from "pino";
import type { DataSource } from "typeorm";
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
    const dataSource = await app.db.openAnotherInstance();
    other = { dataSource, services: createServices(dataSource, app.config, pino({ level: "silent" }), { bcryptCost: 4 }) };
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  const status = async (key: string) => (await app.graphql("{ me { id } }", undefined, viaKey(key))).status;

  let made = 0;
  async function cachedKey(): Promise<{ key: string; id: string; description: string }> {
    const description = `cached ${++made}`;
    const generated = await app.generateKey(alice, { description });
    for (let i = 0; i < 3; i++) await expect(status(generated.key)).resolves.toBe(200);
    expect(app.services.revocations.cache.size).toBeGreaterThan(0);
    return { ...generated, description };
  }

  const aliceActor = () => ({ userId: alice.id, email: alice.email, isAdmin: false, ip: null });

  /**
   * Every operation that ends a key, run by the other instance; the cached key must be refused as
   * soon as it returns. The same table runs across two server processes in
   * test/security/instances.test.ts; this one runs in-process, where mutation testing sees it and
   * a clock can be injected.
   */
  const rows: Array<{ path: string; end(key: { key: string; id: string; description: string }): Promise<"INVALID" | "EXPIRED" | "ROTATED" | void> }> = [
    { path: "revoke", end: async ({ id }) => void (await expect(other.services.apiKeys.revoke(SYSTEM_ACTOR, [id])).resolves.toBe(1)) },
    { path: "revokeAll", end: async () => void (await expect(other.services.apiKeys.revokeAll(SYSTEM_ACTOR)).resolves.toBe(1)) },
    { path: "revokeWhere", end: async ({ description }) => void (await expect(other.services.apiKeys.revokeWhere(SYSTEM_ACTOR, { descriptionContains: description }, false)).resolves.toBe(1)) },
    { path: "deleteOwn", end: async ({ id }) => other.services.apiKeys.deleteOwn(aliceActor(), id) },
    {
      path: "rotate without overlap",
      end: async ({ id }) => {
        const rotated = await other.services.apiKeys.rotate(aliceActor(), { id });
        app.secrets.add(rotated.key);
        await expect(status(rotated.key)).resolves.toBe(200);
      },
    },
    {
      path: "rotate with overlap, once the overlap has ended",
      end: async ({ id }) => {
        // A rotation two seconds ago with a one-second overlap: by the clock it was given, the overlap is over.
        const rotated = await other.services.apiKeys.rotate(aliceActor(), { id, overlapSeconds: 1 }, new Date(Date.now() - 2000));
        app.secrets.add(rotated.key);
        return "ROTATED"; // its own reason, not EXPIRED: the key has a successor to use
      },
    },
    {
      path: "first use of the new key after a rotation with overlap",
      end: async ({ key, id }) => {
        const rotated = await other.services.apiKeys.rotate(aliceActor(), { id, overlapSeconds: 3600 });
        app.secrets.add(rotated.key);
        await expect(status(key)).resolves.toBe(200); // the overlap: still accepted
        // What the other instance's authenticator does on the new key's first use.
        await other.services.apiKeys.retirePredecessor({ keyId: Number(rotated.apiKey.id), userId: alice.id, email: alice.email }, Number(id));
      },
    },
    { path: "owner deactivated", end: async () => void (await other.services.users.setActive(String(alice.id), false, SYSTEM_ACTOR)) },
    { path: "owner deleted", end: async () => void (await expect(other.services.accounts.deleteUser(String(alice.id), SYSTEM_ACTOR)).resolves.toMatchObject({ keysDeleted: 1 })) },
  ];

  test.each(rows.map((row) => [row.path, row] as const))("%s on another instance: 401 as soon as it returns", async (_path, row) => {
    const cached = await cachedKey();
    const reason = (await row.end(cached)) ?? "INVALID";
    const refused = await app.graphql("{ me { id } }", undefined, viaKey(cached.key));
    expect({ status: refused.status, reason: refused.body.errors?.[0]?.extensions?.reason }).toEqual({ status: 401, reason });
  });

  test("owner deactivated on another instance, then reactivated: 200 again", async () => {
    const { key } = await cachedKey();
    await other.services.users.setActive(String(alice.id), false, SYSTEM_ACTOR);
    await expect(status(key)).resolves.toBe(401);
    await other.services.users.setActive(String(alice.id), true, SYSTEM_ACTOR);
    await expect(status(key)).resolves.toBe(200);
  });

  test("a revocation waits out the cache window before it returns", async () => {
    const { id } = await app.generateKey(alice);
    const started = performance.now();
    await other.services.apiKeys.revoke(SYSTEM_ACTOR, [id]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(app.config.keyCacheWindowMs);
  });
});
