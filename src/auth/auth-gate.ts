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
    const { authenticator, throttle } = this.deps;
    const ipKey = ipSubject(ip);
    // A throttled IP costs no SQL and no place in the line, unless the browser carries a device
    // cookie for the account: then only that cookie's own counter applies.
    if (device === null) {
      const ipVerdict = throttle.check(ipKey);
      if (ipVerdict.blocked) return refused(ipVerdict.retryAfterSeconds);
    }
    const account = { found: null as Awaited<ReturnType<typeof authenticator.findPasswordAccount>> | null };
    const outcome = await this.evaluateOnce(
      ip,
      async () => {
        account.found = await authenticator.findPasswordAccount(email);
        return device !== null ? [deviceSubject(device)] : [ipKey, accountSubject(account.found, email)];
      },
      async () => {
        const result = await authenticator.verifyPassword(account.found!, password);
        return { passed: result.ok, value: result };
      },
    );
    if ("throttled" in outcome) return outcome;
    return outcome.value.ok ? outcome.value : { ...outcome.value, throttled: false };
  }

  /**
   * A password check of a signed-in user's own account (changeMyPassword's current password),
   * under the same rules as a login: refused at once from a throttled IP, a place in the line in
   * front of bcrypt, the attempt reserved against the IP and the account (in memory and in the
   * database) before `check` runs bcrypt, a failure keeping its reservation. Without it a stolen
   * API key could run bcrypt after bcrypt against its owner's password, outside the line.
   * `check` returns whether the password passed, with what it made of it.
   */
  async checkOwnPassword<T>(account: { userId: number; email: string }, ip: string, check: () => Promise<{ passed: boolean; value: T }>): Promise<Refusal | { passed: boolean; value: T }> {
    const ipKey = ipSubject(ip);
    const ipVerdict = this.deps.throttle.check(ipKey);
    if (ipVerdict.blocked) return refused(ipVerdict.retryAfterSeconds);
    const outcome = await this.evaluateOnce(ip, async () => [ipKey, accountSubject(account, account.email)], check);
    return "throttled" in outcome ? outcome : { passed: outcome.passed, value: outcome.value };
  }

  /**
   * One password evaluation: a place in the line, then the attempt reserved against `subjects`
   * (in memory, then in the database), then `evaluate` on the ticket's turn. A failed evaluation
   * keeps its reservations; a passed one gives them back; one never evaluated (refused, or a
   * database error) was never an attempt.
   */
  private async evaluateOnce<T>(ip: string, subjectsOf: () => Promise<string[]>, evaluate: () => Promise<{ passed: boolean; value: T }>): Promise<Refusal | { passed: boolean; value: T }> {
    const { throttle, shared, queue } = this.deps;
    const entering = queue.enter(ip);
    const admission = entering instanceof Promise ? await entering : entering;
    if (!admission.admitted) return { ok: false, throttled: true, busy: admission.reason === "busy", retryAfterSeconds: admission.retryAfterSeconds };
    const { ticket } = admission;
    try {
      const subjects = await subjectsOf();
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
        const outcome = await evaluate();
        if (outcome.passed) {
          local.release();
          await global.release();
        }
        return outcome;
      } finally {
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
