/**
 * Short-lived memo for the admin list's `totalCount`: a COUNT over a million keys costs tens of
 * milliseconds, more than the page itself (a keyset range read). Entries live `ttlMs`; every key
 * write made through ApiKeyService clears the cache, so on one instance a count is exact after a
 * change made there, and a change made by another instance or a CLI shows within `ttlMs`.
 * Concurrent misses for the same count share one query. Holds counts only, never a credential.
 */
export class CountCache {
  private readonly entries = new Map<string, { at: number; value: Promise<number> }>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly maxEntries = 200,
    private readonly clock: () => number = Date.now,
  ) {}

  get(key: string, compute: () => Promise<number>): Promise<number> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const value = compute();
    const entry = { at: now, value };
    this.entries.set(key, entry);
    // A failed count is not remembered.
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
