import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { DataSource } from "typeorm";

const SECRET_SQL = "SELECT secret FROM server_secrets WHERE name = 'device_cookie'";
const VERSION = "d1";
const NONCE_BYTES = 16;
const MAC_BYTES = 16;
/** `d1.` + nonce + `.` + issued (base36 seconds) + `.` + MAC: far below this. */
const MAX_LENGTH = 128;
const SHAPE = /^d1\.([A-Za-z0-9_-]{22})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$/;

/**
 * OWASP's device cookies ("Slow Down Online Guessing Attacks with Device Cookies"): a browser
 * that logged in to an account gets a cookie naming the account, a random nonce and the time,
 * signed with a server secret. A later login attempt carrying a valid one for the account it
 * names is throttled on a counter of that nonce alone, so failures from elsewhere (another
 * machine, the same NAT, the same IP) cannot lock the account's owner out, while a guesser
 * without such a cookie meets the per-IP and per-account limits as before.
 * The account is bound by an HMAC of its canonical email, so the cookie does not reveal it.
 * The secret is made by a migration (server_secrets) and shared by every instance.
 */
export class DeviceCookies {
  private secret: Buffer | null = null;
  private loading: Promise<Buffer> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  load(): Promise<Buffer> {
    this.loading ??= (async () => {
      const rows: Array<{ secret: unknown }> = await this.dataSource.query(SECRET_SQL);
      const hex = rows[0] ? String(rows[0].secret) : "";
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error("server_secrets holds no device-cookie secret: run the migrations");
      this.secret = Buffer.from(hex, "hex");
      return this.secret;
    })().catch((error: unknown) => {
      this.loading = null;
      throw error;
    });
    return this.loading;
  }

  /** A fresh cookie value for a browser that has just logged in as `email`. */
  async issue(email: string): Promise<string> {
    const secret = this.secret ?? (await this.load());
    const nonce = randomBytes(NONCE_BYTES).toString("base64url");
    const issued = Math.floor(this.now() / 1000).toString(36);
    return `${VERSION}.${nonce}.${issued}.${mac(secret, email, nonce, issued)}`;
  }

  /**
   * The nonce of a valid, unexpired cookie for `email`, else null. Constant-time on the MAC;
   * synchronous once the secret is loaded (the server loads it at start).
   */
  async verify(value: string | undefined, email: string): Promise<string | null> {
    if (!value || value.length > MAX_LENGTH) return null;
    const match = SHAPE.exec(value);
    if (!match) return null;
    const [, nonce, issued, presented] = match;
    const issuedMs = parseInt(issued, 36) * 1000;
    if (!(issuedMs <= this.now() + 60_000 && this.now() - issuedMs < this.lifetimeMs)) return null;
    const secret = this.secret ?? (await this.load());
    const expected = Buffer.from(mac(secret, email, nonce, issued), "latin1");
    return timingSafeEqual(expected, Buffer.from(presented, "latin1")) ? nonce : null;
  }
}

/** Emails are compared as users are looked up: trimmed, lower case. */
function mac(secret: Buffer, email: string, nonce: string, issued: string): string {
  return createHmac("sha256", secret)
    .update(`device-cookie|${VERSION}|${email.trim().toLowerCase()}|${nonce}|${issued}`, "utf8")
    .digest()
    .subarray(0, MAC_BYTES)
    .toString("base64url");
}
