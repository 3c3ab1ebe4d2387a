import { ConfigError, loadConfig } from "../../src/config";
import { sessionActivityIntervalMs } from "../../src/config/sessions";

describe("session settings", () => {
  test("defaults: 30 minutes idle, 12 hours at most, cookies not Secure, device cookies for 180 days", () => {
    const { sessions } = loadConfig({});
    expect(sessions).toEqual({ idleTimeoutMs: 30 * 60_000, maxLifetimeMs: 12 * 3600_000, cookieSecure: false, deviceCookieLifetimeMs: 180 * 24 * 3600_000 });
    // Activity is written at most once a minute, a tenth of the idle timeout when that is shorter.
    expect(sessionActivityIntervalMs(sessions)).toBe(60_000);
    expect(sessionActivityIntervalMs(loadConfig({ SESSION_IDLE_TIMEOUT_SECONDS: "60" }).sessions)).toBe(6_000);
  });

  test("configurable, and an idle timeout longer than the maximum is reported with every other problem", () => {
    expect(loadConfig({ SESSION_IDLE_TIMEOUT_SECONDS: "600", SESSION_MAX_LIFETIME_SECONDS: "3600", COOKIE_SECURE: "true" }).sessions).toMatchObject({ idleTimeoutMs: 600_000, maxLifetimeMs: 3_600_000, cookieSecure: true });
    let error: unknown;
    try {
      loadConfig({ SESSION_IDLE_TIMEOUT_SECONDS: "7200", SESSION_MAX_LIFETIME_SECONDS: "3600", COOKIE_SECURE: "maybe", DEVICE_COOKIE_DAYS: "0" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(
      expect.arrayContaining([
        "SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_MAX_LIFETIME_SECONDS",
        'COOKIE_SECURE must be true or false, got "maybe"',
        "DEVICE_COOKIE_DAYS must be between 1 and 3650, got 0",
      ]),
    );
  });
});
