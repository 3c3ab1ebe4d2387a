/**
 * Memo for the admin list's `totalCount`: a COUNT over a million keys costs tens of milliseconds
 * on SQLite and far more on MariaDB, more than the page itself (a keyset range read).
 * - Fresh for `ttlMs`: answered from memory.
 * - Then, up to `staleMs`: still answered from memory at once, while one background query
 *   refreshes it (stale-while-revalidate), so a page never waits for a COUNT it already had.
 * - Every key write made through ApiKeyService clears the memo, so on one instance the count is
 *   exact after a change made there; a change made by another instance or a CLI shows within
 *   `ttlMs` plus one refresh.
 * Concurrent misses for the same count share one query. Holds counts only, never a credential.
 */
export class CountCache {
  private readonly entries = new Map<string, { at: number; value: Promise<number>; settled: number | null; refreshing: boolean }>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly staleMs = 60_000,
    private readonly maxEntries = 200,
    private readonly clock: () => number = Date.now,
  ) {}

  get(key: string, compute: () => Promise<number>): Promise<number> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (hit && hit.settled !== null && now - hit.at < this.staleMs) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        compute().then(
          (value) => {
            // Only if nothing cleared or replaced the entry meanwhile.
            if (this.entries.get(key) === hit) this.store(key, Promise.resolve(value), value);
          },
          () => {
            hit.refreshing = false;
          },
        );
      }
      return Promise.resolve(hit.settled);
    }
    const value = compute();
    const entry = this.store(key, value, null);
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

  private store(key: string, value: Promise<number>, settled: number | null) {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const entry = { at: this.clock(), value, settled, refreshing: false };
    this.entries.set(key, entry);
    return entry;
  }
}
