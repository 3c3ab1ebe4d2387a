import { performance } from "node:perf_hooks";

/** What authentication needs of a key row, kept in memory between requests. */
export interface CachedKey {
  keyId: number;
  userId: number;
  email: string;
  isAdmin: boolean;
  active: boolean;
  expiresAt: Date | null;
  readOnly: boolean;
  displayName: string | null;
  userCreatedAt: Date;
  /** As stored, or as this instance last queued it (so lastUsedAt is still written once a minute). */
  lastUsedAt: Date | null;
  /**
   * The successful authentication result, made on first use and shared by later requests.
   * Opaque here (keys/ sits below auth/): the authenticator alone writes and reads it.
   */
  accepted?: unknown;
}

export interface KeyCacheOptions {
  /** How long one confirmation that nothing was revoked lets cached lookups be used; 0: no cache. */
  windowMs: number;
  /** Upper bound on entries; the oldest entry leaves first. */
  maxEntries: number;
}

/**
 * Key lookups kept in memory, which can never be used after a revocation has returned, on any
 * instance. The protocol:
 * - every revoking write bumps `revocation_epoch.generation` in its own transaction, then waits
 *   `windowMs` (plus a margin) before it returns (RevocationEpoch.settled);
 * - each instance polls the generation every windowMs/4 and empties its cache when it moved;
 * - a cached entry is used only while the last completed poll *started* less than windowMs ago.
 * A request that arrives after a revocation returned (at least windowMs after its commit) is
 * therefore served either by an instance whose last poll started after the commit, which saw the
 * bump and emptied the cache, or by one whose cache has gone stale, which reads the database.
 * If the poll fails (database away), the cache goes stale on its own within windowMs.
 * Entries are keyed by the key's SHA-256, like the database index: the map reveals no more
 * through timing than the index lookup it replaces.
 */
export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();
  private readonly absent = new Set<string>();
  private generation: string | null = null;
  private freshUntil = 0;
  private clears = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;

  constructor(
    readonly options: KeyCacheOptions,
    private readonly readGeneration: () => Promise<string>,
    private readonly onPollError: (error: unknown) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.options.windowMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A cached lookup, only while the last poll vouches for it. */
  get(hash: string): CachedKey | undefined {
    if (this.entries.size === 0 || this.now() >= this.freshUntil) return undefined;
    return this.entries.get(hash);
  }

  /**
   * Hashes the database had no row for. Such an answer never goes stale, so it needs no poll: a
   * key is handed out only after its row has committed, and keys never repeat (256 random bits),
   * so a row could appear for a hash found absent only if someone had presented the key before it
   * was issued. (Restoring a newer backup over an older database is the exception: restart the
   * instances after a restore, as after any change made behind the service's back.)
   * It spares the lookup when a revoked or deleted key is sent again and again, e.g. by a
   * forgotten cron job. Made-up keys never get this far (src/keys/key-tags.ts).
   */
  isAbsent(hash: string): boolean {
    return this.absent.size !== 0 && this.absent.has(hash);
  }

  noteAbsent(hash: string): void {
    if (!this.enabled) return;
    if (this.absent.size >= this.options.maxEntries) this.absent.delete(this.absent.values().next().value!);
    this.absent.add(hash);
  }

  /** Taken before a database lookup and handed to set(): a row read before a clear is not kept after it. */
  get version(): number {
    return this.clears;
  }

  set(hash: string, entry: CachedKey, versionAtRead: number): void {
    if (!this.enabled || versionAtRead !== this.clears) return;
    if (this.entries.size >= this.options.maxEntries && !this.entries.has(hash)) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(hash, entry);
  }

  /** This instance revoked something: forget everything now, without waiting for the poll. */
  clear(): void {
    this.entries.clear();
    this.clears++;
  }

  /** One poll of the revocation generation (the timer calls it; tests may too). */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      const started = this.now();
      try {
        const generation = await this.readGeneration();
        if (generation !== this.generation) {
          this.clear();
          this.generation = generation;
        }
        this.freshUntil = started + this.options.windowMs;
      } catch (error) {
        this.onPollError(error);
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), Math.max(5, Math.floor(this.options.windowMs / 4)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
    this.freshUntil = 0;
  }
}
