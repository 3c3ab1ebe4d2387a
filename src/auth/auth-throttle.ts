/**
 * Counts failed authentications per client IP and per target account, in memory, per process.
 *
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
    for (const subject of subjects) {
      const window = this.windows.get(subject);
      if (window && window.endsAt > now) {
        window.count += 1;
        continue;
      }
      this.windows.delete(subject); // re-insert so Map order stays oldest-first
      this.windows.set(subject, { count: 1, endsAt: now + this.options.windowMs });
      if (this.windows.size > this.options.maxEntries) this.evict(now);
    }
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
/** Normalised the way users are looked up (trimmed, lower case), so case variants share a counter. */
export const accountSubject = (email: string) => `account:${email.trim().toLowerCase()}`;
