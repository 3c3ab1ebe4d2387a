/**
 * Memo for the admin list's `totalCount`: a COUNT over a million keys costs tens of milliseconds
 * on SQLite and far more on MariaDB, more than the page itself (a keyset range read).
 * - Fresh for `ttlMs` (30 s): answered from memory. Writes made on this instance are already in
 *   it (below), so the TTL bounds only how late another instance's writes show.
 * - Then, up to `staleMs` (10 min): still answered from memory at once, while one background query
 *   refreshes it (stale-while-revalidate), so a page never waits for a COUNT it already had.
 * - A key write made through ApiKeyService adjusts the counts it can by exactly what it changed
 *   (`snapshot` before the write, `apply` after the commit, see ApiKeyService.tally), and drops the
 *   others; so on one instance a count is exact at once after a change made there, without counting
 *   the table again. Other writes (a user's deletion, the purge job) `clear` the memo. A change made
 *   by another instance or the CLI shows within `ttlMs` plus one refresh.
 * Concurrent misses for the same count share one query. Holds counts only, never a credential.
 */
interface Entry<Scope> {
  at: number;
  value: Promise<number>;
  settled: number | null;
  refreshing: boolean;
  /** What was counted (for ApiKeyService: the conditions and their parameters). */
  scope: Scope | undefined;
}

/** Settled counts taken before a write, to adjust after it. */
export interface CountSnapshot<Scope> {
  items: Array<{ key: string; settled: number; scope: Scope | undefined; entry: unknown }>;
}

/** At most this many counts are adjusted by a write (each costs the write a bounded query); the rest are dropped. */
export const MAX_ADJUSTED_COUNTS = 16;

export class CountCache<Scope = unknown> {
  private readonly entries = new Map<string, Entry<Scope>>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly staleMs = 600_000,
    private readonly maxEntries = 200,
    private readonly clock: () => number = Date.now,
  ) {}

  get(key: string, compute: () => Promise<number>, scope?: Scope): Promise<number> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (hit && hit.settled !== null && now - hit.at < this.staleMs) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        compute().then(
          (value) => {
            // Only if nothing cleared or replaced the entry meanwhile.
            if (this.entries.get(key) === hit) this.store(key, Promise.resolve(value), value, scope);
          },
          () => {
            hit.refreshing = false;
          },
        );
      }
      return Promise.resolve(hit.settled);
    }
    const value = compute();
    const entry = this.store(key, value, null, scope);
    value.then(
      (settled) => {
        entry.settled = settled;
      },
      // A failed count is not remembered.
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }

  clear(): void {
    this.entries.clear();
  }

  /** The most recently stored settled counts, at most MAX_ADJUSTED_COUNTS of them. */
  snapshot(): CountSnapshot<Scope> {
    const items: CountSnapshot<Scope>["items"] = [];
    for (const [key, entry] of [...this.entries].reverse()) {
      if (entry.settled === null || entry.refreshing) continue;
      items.push({ key, settled: entry.settled, scope: entry.scope, entry });
      if (items.length === MAX_ADJUSTED_COUNTS) break;
    }
    return { items };
  }

  /**
   * After a committed write: each count of the snapshot that is still the same entry becomes its
   * value plus `deltas[i]` (keeping its age); every other count is dropped, since the write may
   * have changed it in a way nobody measured.
   */
  apply(snapshot: CountSnapshot<Scope>, deltas: number[]): void {
    const kept = new Map<string, number>();
    snapshot.items.forEach((item, index) => {
      const entry = this.entries.get(item.key);
      if (entry !== undefined && entry === item.entry && entry.settled !== null) kept.set(item.key, Math.max(0, entry.settled + deltas[index]));
    });
    for (const [key, entry] of [...this.entries]) {
      const value = kept.get(key);
      if (value === undefined) this.entries.delete(key);
      else this.entries.set(key, { ...entry, value: Promise.resolve(value), settled: value });
    }
  }

  private store(key: string, value: Promise<number>, settled: number | null, scope: Scope | undefined, at = this.clock()) {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const entry = { at, value, settled, refreshing: false, scope };
    this.entries.set(key, entry);
    return entry;
  }
}
