import { createHash } from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { inTransaction } from "../db/transactions";

export interface SharedThrottleOptions {
  limit: number;
  windowMs: number;
  now?: () => number;
}

export type SharedReservation = { blocked: false; release(): Promise<void> } | { blocked: true; retryAfterSeconds: number; windowEndsAt: number };

const MAX_TRIES = 3;

/**
 * The password-attempt counters every instance shares, in the database (table auth_attempts).
 * Read and written on the password path only: key requests never touch it.
 *
 * reserve() counts the attempt against each subject before bcrypt runs, in one transaction: the
 * increments lock the rows, so concurrent attempts on any instance see each other's, and at most
 * `limit` attempts per subject and window are ever let through. An attempt over the limit is
 * taken back and refused; a successful login releases its reservation; a failed one keeps it.
 */
export class SharedAuthThrottle {
  private readonly now: () => number;
  private nextSweepAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: SharedThrottleOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async reserve(subjects: string[]): Promise<SharedReservation> {
    // One lock order for every transaction: two attempts on the same pair cannot deadlock.
    const hashes = [...new Set(subjects.map(subjectHash))].sort();
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.dataSource, (manager) => this.reserveIn(manager, hashes));
      } catch (error) {
        // InnoDB may pick an upsert of a brand-new row as a deadlock victim: inTransaction runs it
        // again. A wait for another attempt's row lock that timed out is tried again here.
        if (attempt >= MAX_TRIES || (error as { code?: unknown } | null)?.code !== "ER_LOCK_WAIT_TIMEOUT") throw error;
      }
    }
  }

  private async reserveIn(manager: EntityManager, hashes: string[]): Promise<SharedReservation> {
    const now = this.now();
    if (now >= this.nextSweepAt) {
      // Set before the sweep, so attempts running meanwhile do not sweep too. A try rolled back as
      // a deadlock victim leaves the sweep to the next window: ended rows are ignored until then.
      this.nextSweepAt = now + this.options.windowMs;
      await manager.query("DELETE FROM auth_attempts WHERE window_ends_at <= ?", [now]);
    }
    const upsert =
      manager.connection.options.type === "mysql"
        ? // MySQL assigns left to right: `attempts` still sees the old window_ends_at.
          "INSERT INTO auth_attempts (subject_hash, attempts, window_ends_at) VALUES (?, 1, ?) ON DUPLICATE KEY UPDATE attempts = IF(window_ends_at <= ?, 1, attempts + 1), window_ends_at = IF(window_ends_at <= ?, VALUES(window_ends_at), window_ends_at)"
        : "INSERT INTO auth_attempts (subject_hash, attempts, window_ends_at) VALUES (?, 1, ?) ON CONFLICT (subject_hash) DO UPDATE SET attempts = CASE WHEN window_ends_at <= ? THEN 1 ELSE attempts + 1 END, window_ends_at = CASE WHEN window_ends_at <= ? THEN excluded.window_ends_at ELSE window_ends_at END";
    const windowEndsAt = now + this.options.windowMs;
    for (const hash of hashes) await manager.query(upsert, [hash, windowEndsAt, now, now]);
    const placeholders = hashes.map(() => "?").join(", ");
    const rows: Array<{ subject_hash: unknown; attempts: unknown; window_ends_at: unknown }> = await manager.query(
      `SELECT subject_hash, attempts, window_ends_at FROM auth_attempts WHERE subject_hash IN (${placeholders})`,
      hashes,
    );
    const over = rows.filter((row) => Number(row.attempts) > this.options.limit);
    if (over.length > 0) {
      await manager.query(`UPDATE auth_attempts SET attempts = attempts - 1 WHERE subject_hash IN (${placeholders})`, hashes);
      const endsAt = Math.max(...over.map((row) => Number(row.window_ends_at)));
      return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now) / 1000)), windowEndsAt: endsAt };
    }
    const counted = rows.map((row) => [String(row.subject_hash), Number(row.window_ends_at)] as const);
    let released = false;
    return {
      blocked: false,
      release: async () => {
        // Once: a second release would give back a place another attempt holds.
        if (released) return;
        released = true;
        await inTransaction(this.dataSource, async (releasing) => {
          // Only from the windows this attempt counted in: a newer window owes it nothing.
          for (const [hash, endsAt] of counted) {
            await releasing.query("UPDATE auth_attempts SET attempts = attempts - 1 WHERE subject_hash = ? AND window_ends_at = ? AND attempts > 0", [hash, endsAt]);
          }
        });
      },
    };
  }
}

function subjectHash(subject: string): string {
  return createHash("sha256").update(subject).digest("hex");
}
