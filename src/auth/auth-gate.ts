import { parseApiKey } from "../keys/api-key-format";
import type { AuthResult, Authenticator } from "./authenticator";
import type { Credentials } from "./credentials";
import type { Identity } from "./identity";
import type { PasswordQueue } from "./password-queue";
import type { SharedAuthThrottle } from "./shared-throttle";
import { accountSubject, type AuthThrottle, deviceSubject, ipSubject } from "./auth-throttle";

export type GateResult =
  | { ok: true; identity: Identity | null }
  | (Extract<AuthResult, { ok: false }> & { throttled: false })
  /** busy: the line in front of bcrypt is full (503), else the client is throttled (429). */
  | { ok: false; throttled: true; busy: boolean; retryAfterSeconds: number };

const KEY_AS_PASSWORD: AuthResult = Object.freeze({ ok: false, reason: "INVALID", method: "password", mistake: "KEY_AS_PASSWORD" });

type Refusal = Extract<GateResult, { throttled: true }>;

export interface GateDependencies {
  authenticator: Pick<Authenticator, "authenticate" | "findPasswordAccount" | "verifyPassword">;
  /** In memory, this instance: the fast path, consulted before any SQL. */
  throttle: AuthThrottle;
  /** In the database, every instance: password attempts only. */
  shared: Pick<SharedAuthThrottle, "reserve">;
  queue: PasswordQueue;
}

/**
 * The authenticator behind the brute-force throttle:
 * - an API key is checked first (one indexed lookup, microseconds), so a valid key passes even
 *   from a throttled IP (a NAT shared with an attacker) and is never slowed by others' failures;
 *   key requests read and write nothing here but memory;
 * - a password attempt takes a place in the bounded line in front of bcrypt (refused at once when
 *   the line, or the client's share of it, is full), then reserves its attempt against the client
 *   IP and the account it names, in memory and in the database, before bcrypt runs: at most
 *   `limit` attempts per IP and per account are ever evaluated in a window, concurrent or not, on
 *   any number of instances. A failure keeps its reservation; a success gives it back;
 * - every key failure counts against the client IP.
 * - a login from a browser with a valid device cookie for the account (src/auth/device-cookies.ts)
 *   counts against that cookie alone: others' failures, from its IP or against its account, cannot
 *   lock the owner out (OWASP's device cookies).
 */
export class AuthGate {
  constructor(private readonly deps: GateDependencies) {}

  /**
   * Synchronous when the authenticator is (see Authenticator.authenticate). `device`: the nonce
   * of a verified device cookie for the account a password attempt names.
   */
  authenticate(credentials: Credentials, ip: string, device?: string | null): GateResult | Promise<GateResult> {
    if (credentials.kind === "password") return this.authenticatePassword(credentials, ip, device ?? null);
    const result = this.deps.authenticator.authenticate(credentials);
    return result instanceof Promise ? result.then((settled) => this.afterKeyOrNone(settled, ip)) : this.afterKeyOrNone(result, ip);
  }

  private async authenticatePassword({ email, password }: Extract<Credentials, { kind: "password" }>, ip: string, device: string | null): Promise<GateResult> {
    // An API key sent with an email: a key is no password of ours, so no lookup, no bcrypt and no
    // place in the line, whatever the email (the answer tells nothing about it).
    if (parseApiKey(password).ok) return this.afterKeyOrNone(KEY_AS_PASSWORD, ip);
    const { authenticator, throttle, shared, queue } = this.deps;
    const ipKey = ipSubject(ip);
    // A throttled IP costs no SQL and no place in the line, unless the browser carries a device
    // cookie for the account: then only that cookie's own counter applies.
    if (device === null) {
      const ipVerdict = throttle.check(ipKey);
      if (ipVerdict.blocked) return refused(ipVerdict.retryAfterSeconds);
    }
    const entering = queue.enter(ip);
    const admission = entering instanceof Promise ? await entering : entering;
    if (!admission.admitted) return { ok: false, throttled: true, busy: admission.reason === "busy", retryAfterSeconds: admission.retryAfterSeconds };
    const { ticket } = admission;
    try {
      const account = await authenticator.findPasswordAccount(email);
      const subjects = device !== null ? [deviceSubject(device)] : [ipKey, accountSubject(account, email)];
      const local = throttle.reserve(...subjects);
      if (local.blocked) return refused(local.retryAfterSeconds);
      let evaluated = false;
      try {
        const global = await shared.reserve(subjects);
        if (global.blocked) {
          // Remembered here, so this instance refuses the next attempts without asking the database.
          for (const subject of subjects) throttle.block(subject, global.windowEndsAt);
          return refused(global.retryAfterSeconds);
        }
        await ticket.turn();
        evaluated = true;
        const result = await authenticator.verifyPassword(account, password);
        if (!result.ok) return { ...result, throttled: false };
        local.release();
        await global.release();
        return result;
      } finally {
        // Not evaluated (refused, or a database error): the attempt was never made.
        if (!evaluated) local.release();
      }
    } finally {
      ticket.leave();
    }
  }

  private afterKeyOrNone(result: AuthResult, ip: string): GateResult {
    if (result.ok) return result;
    const ipKey = ipSubject(ip);
    const verdict = this.deps.throttle.check(ipKey);
    if (verdict.blocked) return refused(verdict.retryAfterSeconds);
    this.deps.throttle.recordFailure(ipKey);
    return { ...result, throttled: false };
  }
}

function refused(retryAfterSeconds: number): Refusal {
  return { ok: false, throttled: true, busy: false, retryAfterSeconds };
}
