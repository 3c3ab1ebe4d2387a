import { DeviceCookies } from "../../src/auth/device-cookies";
import { createTestDatabase, type TestDatabase } from "../support/database";

describe("device cookies (OWASP)", () => {
  let db: TestDatabase;
  let clock = Date.parse("2026-11-30T10:00:00Z");
  let devices: DeviceCookies;

  beforeAll(async () => {
    db = await createTestDatabase();
    devices = new DeviceCookies(db.dataSource, 30 * 24 * 3600_000, () => clock);
    await devices.load();
  });
  afterAll(() => db.destroy());

  test("a cookie issued for an account verifies for it (case and spaces aside), and for no other", async () => {
    const cookie = await devices.issue("alice@example.org");
    expect(cookie).toMatch(/^d1\.[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(cookie).not.toContain("alice");
    const nonce = await devices.verify(cookie, " Alice@Example.org ");
    expect(nonce).toBe(cookie.split(".")[1]);
    expect(await devices.verify(cookie, "bob@example.org")).toBeNull();
  });

  test("tampered, truncated, foreign-secret and expired cookies are refused", async () => {
    const cookie = await devices.issue("alice@example.org");
    const [version, nonce, issued, mac] = cookie.split(".");
    const flipped = mac.slice(0, -1) + (mac.endsWith("A") ? "B" : "A");
    expect(await devices.verify([version, nonce, issued, flipped].join("."), "alice@example.org")).toBeNull();
    expect(await devices.verify([version, nonce, (parseInt(issued, 36) + 1).toString(36), mac].join("."), "alice@example.org")).toBeNull();
    expect(await devices.verify(cookie.slice(0, -2), "alice@example.org")).toBeNull();
    expect(await devices.verify(undefined, "alice@example.org")).toBeNull();
    expect(await devices.verify("x".repeat(500), "alice@example.org")).toBeNull();
    const other = await createTestDatabase();
    try {
      const foreign = await new DeviceCookies(other.dataSource, 30 * 24 * 3600_000, () => clock).issue("alice@example.org");
      expect(await devices.verify(foreign, "alice@example.org")).toBeNull();
    } finally {
      await other.destroy();
    }
    clock += 31 * 24 * 3600_000;
    expect(await devices.verify(cookie, "alice@example.org")).toBeNull();
  });
  test("a missing or corrupt secret row is refused at load, and a later load reads it again", async () => {
    const [{ secret }] = await db.dataSource.query("SELECT secret FROM server_secrets WHERE name = 'device_cookie'");
    const message = "server_secrets holds no device-cookie secret: run the migrations";
    try {
      for (const corrupt of ["", "ab", String(secret).toUpperCase(), String(secret).slice(2) + "zz"]) {
        await db.dataSource.query("UPDATE server_secrets SET secret = ? WHERE name = 'device_cookie'", [corrupt]);
        await expect(new DeviceCookies(db.dataSource, 1000).load()).rejects.toThrow(message);
      }
      await db.dataSource.query("UPDATE server_secrets SET name = 'moved' WHERE name = 'device_cookie'");
      const later = new DeviceCookies(db.dataSource, 1000);
      await expect(later.load()).rejects.toThrow(message);
      await db.dataSource.query("UPDATE server_secrets SET name = 'device_cookie', secret = ? WHERE name = 'moved'", [secret]);
      await expect(later.load()).resolves.toEqual(Buffer.from(String(secret), "hex"));
    } finally {
      await db.dataSource.query("UPDATE server_secrets SET name = 'device_cookie', secret = ? WHERE name IN ('device_cookie', 'moved')", [secret]);
    }
  });
});
