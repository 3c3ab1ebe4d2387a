import type { Identity } from "../identity";

/**
 * The key cache's revocation epoch (src/auth/key-cache.ts), as the session cache sees it: every
 * revoking write (logout, ended sessions, deactivation) bumps the same generation, so one poll
 * guards both caches.
 */
export interface RevocationView {
  readonly enabled: boolean;
  /** Changes whenever the key cache is emptied (a bump seen by its poll, or a local revocation). */
  readonly version: number;
  /** Whether the last poll still vouches for cached entries. */
  readonly fresh: boolean;
}

/** When a session was last used, as this instance knows it; shared by its cookie and its session keys. */
export interface SessionActivity {
  readonly sessionId: number;
  lastSeenMs: number;
  /** The last time written to the database or queued to be (the recorder's copy of lastSeenAt). */
  written: Date;
  readonly expiresAtMs: number;
}

/** What authentication needs of a session (or session key) row, kept between requests. */
export interface CachedSession {
  activity: SessionActivity;
  method: "session" | "sessionkey";
  userId: number;
  email: string;
  isAdmin: boolean;
  active: boolean;
  displayName: string | null;
  userCreatedAt: Date;
  /** The successful result, made on first use and shared by later requests. */
  accepted?: Readonly<{ ok: true; identity: Identity }>;
}

/**
 * Session lookups kept in memory under the key cache's protocol: an entry is used only while the
 * epoch is fresh and unchanged since the entry was read, so a logout on any instance stops its
 * cookie on every instance by the time the logout returns. Keyed by SHA-256, like the index.
 * Activity (lastSeen) is kept apart from the entries and survives an epoch change: it is not
 * a grant, only what this instance knows of the session's last use before the write-behind
 * reached the database.
 */
export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly activities = new Map<number, SessionActivity>();
  private entriesVersion = -1;

  constructor(
    private readonly epoch: RevocationView,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: string): CachedSession | undefined {
    if (this.entries.size === 0 || !this.epoch.fresh) return undefined;
    if (this.epoch.version !== this.entriesVersion) {
      this.entries.clear();
      return undefined;
    }
    return this.entries.get(hash);
  }

  /** Taken before a database read and handed to set(): a row read before a revocation is not kept after it. */
  get version(): number {
    return this.epoch.version;
  }

  set(hash: string, entry: CachedSession, versionAtRead: number): void {
    if (!this.epoch.enabled || versionAtRead !== this.epoch.version) return;
    if (this.entriesVersion !== versionAtRead) {
      this.entries.clear();
      this.entriesVersion = versionAtRead;
    }
    evictOldest(this.entries, this.maxEntries, hash);
    this.entries.set(hash, entry);
  }

  /** This instance's view of a session's activity, merged with what the database says. */
  activity(sessionId: number, storedLastSeen: Date, expiresAtMs: number): SessionActivity {
    const known = this.activities.get(sessionId);
    if (known) {
      if (storedLastSeen.getTime() > known.lastSeenMs) known.lastSeenMs = storedLastSeen.getTime();
      if (storedLastSeen > known.written) known.written = storedLastSeen;
      return known;
    }
    const activity: SessionActivity = { sessionId, lastSeenMs: storedLastSeen.getTime(), written: storedLastSeen, expiresAtMs };
    evictOldest(this.activities, this.maxEntries, sessionId);
    this.activities.set(sessionId, activity);
    return activity;
  }

  /** A session this instance ended: forget it at once (other instances learn of it by the epoch). */
  forget(sessionId: number): void {
    this.activities.delete(sessionId);
    for (const [hash, entry] of this.entries) if (entry.activity.sessionId === sessionId) this.entries.delete(hash);
  }
}

function evictOldest<K, V>(map: Map<K, V>, maxEntries: number, incoming: K): void {
  if (map.size >= maxEntries && !map.has(incoming)) map.delete(map.keys().next().value!);
}
