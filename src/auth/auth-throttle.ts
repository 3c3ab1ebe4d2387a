import { canonicalEmail } from "../entities/email";

/**
 * Counts failed authentications per client IP and per target account, in memory, per process
 * (the fast path: the password path also counts in the database, src/auth/shared-throttle.ts).
 *
 * Password attempts reserve their place before bcrypt runs (reserve): an attempt in flight counts
 * like a failure, so concurrent guesses cannot all pass the check; a success gives it back.
 * Fixed windows: the first failure for a subject opens a window of `windowMs`; once `limit`
 * failures fall inside it, the subject is blocked until the window ends (Retry-After). The map is
 * bounded: past `maxEntries` subjects, expired windows are dropped, then the oldest ones, so a
 * flood of spoofed subjects costs bounded memory (and at worst forgets some counters early).
 */
export interface ThrottleOptions {
  limit: number;
  windowMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Window {
  count: number;
  endsAt: number;
}

export type ThrottleVerdict = { blocked: false } | { blocked: true; retryAfterSeconds: number };
export type Reservation = { blocked: false; release(): void } | { blocked: true; retryAfterSeconds: number };

export class AuthThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;

  constructor(private readonly options: ThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Blocked if any of the subjects has used up its failures in the current window. */
  check(...subjects: string[]): ThrottleVerdict {
    const now = this.now();
    let retryAfterMs = 0;
    for (const subject of subjects) {
      const window = this.windows.get(subject);
      if (!window) continue;
      if (window.endsAt <= now) {
        this.windows.delete(subject);
        continue;
      }
      if (window.count >= this.options.limit) retryAfterMs = Math.max(retryAfterMs, window.endsAt - now);
    }
    return retryAfterMs > 0 ? { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) } : { blocked: false };
  }

  recordFailure(...subjects: string[]): void {
    const now = this.now();
    for (const subject of subjects) this.count(subject, now);
  }

  /**
   * Check and count in one step, before the attempt runs: blocked if any subject is at its limit,
   * else the attempt counts against every subject until release() (a success) takes it back.
   */
  reserve(...subjects: string[]): Reservation {
    const verdict = this.check(...subjects);
    if (verdict.blocked) return verdict;
    const now = this.now();
    const windows = subjects.map((subject) => this.count(subject, now));
    let released = false;
    return {
      blocked: false,
      release: () => {
        if (released) return;
        released = true;
        // A window that ended (or was evicted) meanwhile is no longer consulted: harmless.
        for (const window of windows) window.count = Math.max(0, window.count - 1);
      },
    };
  }

  /** Another instance's counters (the shared throttle) found the subject at its limit until `endsAt`. */
  block(subject: string, endsAt: number): void {
    const now = this.now();
    if (endsAt <= now) return;
    const window = this.windows.get(subject);
    if (window && window.endsAt > now) {
      window.count = Math.max(window.count, this.options.limit);
      window.endsAt = Math.max(window.endsAt, endsAt);
      return;
    }
    this.windows.delete(subject);
    this.windows.set(subject, { count: this.options.limit, endsAt });
    if (this.windows.size > this.options.maxEntries) this.evict(now);
  }

  private count(subject: string, now: number): Window {
    const window = this.windows.get(subject);
    if (window && window.endsAt > now) {
      window.count += 1;
      return window;
    }
    this.windows.delete(subject); // re-insert so Map order stays oldest-first
    const opened = { count: 1, endsAt: now + this.options.windowMs };
    this.windows.set(subject, opened);
    if (this.windows.size > this.options.maxEntries) this.evict(now);
    return opened;
  }

  /** Number of subjects currently tracked (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  private evict(now: number): void {
    for (const [subject, window] of this.windows) {
      if (window.endsAt <= now) this.windows.delete(subject);
    }
    const excess = this.windows.size - this.options.maxEntries;
    if (excess <= 0) return;
    let dropped = 0;
    for (const subject of this.windows.keys()) {
      if (dropped++ >= excess) break;
      this.windows.delete(subject);
    }
  }
}

export const ipSubject = (ip: string) => `ip:${ip}`;
/**
 * The account a password attempt reached, by id: every spelling of its email (case, width, spaces)
 * counts against one counter. An email that names no account counts in its canonical form.
 */
export const accountSubject = (account: { userId: number } | null, email: string) => (account ? `account:${account.userId}` : `email:${canonicalEmail(email)}`);
/** A browser's device cookie (its nonce): its own counter for logins to the account it names. */
export const deviceSubject = (nonce: string) => `device:${nonce}`;
