import type { DataSource } from "typeorm";
import { fromSqlBoolean, fromSqlDateTime } from "../../db/data-source";
import { createPreparedRead, type PreparedRead, type Row } from "../../db/prepared-read";
import type { AuthFailureReason } from "../../errors";
import { API_KEY_LENGTH, hashApiKey, hashesEqual, type ParsedKey, parseApiKey } from "../../keys/api-key-format";
import type { Identity } from "../identity";
import type { KeyTags } from "../../keys/key-tags";
import type { CachedSession, SessionCache } from "./session-cache";

const USER_COLUMNS = "u.id AS user_id, u.email, u.is_admin, u.active, u.display_name, u.created_at AS user_created_at";
export const SESSION_LOOKUP_SQL = `SELECT s.id AS session_id, s.token_hash AS secret_hash, s.expires_at, s.last_seen_at, ${USER_COLUMNS}
  FROM sessions s INNER JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = ?`;
export const SESSION_KEY_LOOKUP_SQL = `SELECT s.id AS session_id, k.key_hash AS secret_hash, s.expires_at, s.last_seen_at, ${USER_COLUMNS}
  FROM session_keys k INNER JOIN sessions s ON s.id = k.session_id INNER JOIN users u ON u.id = s.user_id
  WHERE k.key_hash = ?`;
// The CAST keeps SQLite from re-planning at every binding (see src/auth/key-lookup.ts).
const sqliteVariant = (sql: string, column: string) => sql.replace(`${column} = ?`, `${column} = CAST(? AS TEXT)`);

export type SessionAuthResult =
  | Readonly<{ ok: true; identity: Identity }>
  | { ok: false; reason: Extract<AuthFailureReason, "INVALID" | "EXPIRED" | "MALFORMED">; method: "session" | "sessionkey"; account?: { userId: number; email: string } };

/** Notes a session's use for the write-behind of sessions.last_seen_at (a LastUsedRecorder on that column). */
export interface ActivityRecorder {
  record(sessionId: number, written: Date | null, now: number): Date | null;
}

export interface SessionAuthOptions {
  idleTimeoutMs: number;
}

const IDLE = Symbol("idle");

/**
 * Session cookies and session keys in, identity out. A cached session costs no SQL and no write:
 * its use is noted in memory (SessionActivity) and written behind. A session that looks idle
 * from here is read again before it is refused: another instance may have served it meanwhile.
 */
export class SessionAuthenticator {
  private readonly lookups: Record<CachedSession["method"], PreparedRead>;

  constructor(
    dataSource: DataSource,
    private readonly cache: SessionCache,
    private readonly keyTags: Pick<KeyTags, "mayHaveIssued">,
    private readonly activity: ActivityRecorder,
    private readonly options: SessionAuthOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.lookups = {
      session: createPreparedRead(dataSource, SESSION_LOOKUP_SQL, sqliteVariant(SESSION_LOOKUP_SQL, "s.token_hash")),
      sessionkey: createPreparedRead(dataSource, SESSION_KEY_LOOKUP_SQL, sqliteVariant(SESSION_KEY_LOOKUP_SQL, "k.key_hash")),
    };
  }

  /**
   * A session cookie's value. The cache first, as for keys (src/auth/authenticator.ts): it holds
   * only values that passed parsing, so a hit needs no parsing again; a session key's entry is
   * no cookie's.
   */
  authenticateCookie(token: string): SessionAuthResult | Promise<SessionAuthResult> {
    if (token.length !== API_KEY_LENGTH) return { ok: false, reason: "INVALID", method: "session" };
    const hash = hashApiKey(token);
    const verdict = this.fromCache("session", hash);
    if (verdict) return verdict;
    const parsed = parseApiKey(token);
    if (!parsed.ok || parsed.kind !== "cookie") return { ok: false, reason: "INVALID", method: "session" };
    return this.lookUp("session", parsed, hash);
  }

  /** A session key (parsed, kind "session"), as sent through Basic apikey: or the apikey header. */
  authenticateKey(parsed: Extract<ParsedKey, { ok: true }>, hash: string): SessionAuthResult | Promise<SessionAuthResult> {
    return this.fromCache("sessionkey", hash) ?? this.lookUp("sessionkey", parsed, hash);
  }

  /** The cached answer, or undefined when the database must be asked (not cached, or looks idle). */
  private fromCache(method: CachedSession["method"], hash: string): SessionAuthResult | undefined {
    const cached = this.cache.get(hash);
    if (!cached || cached.method !== method) return undefined;
    const verdict = this.check(cached);
    return verdict === IDLE ? undefined : verdict;
  }

  private lookUp(method: CachedSession["method"], parsed: Extract<ParsedKey, { ok: true }>, hash: string): SessionAuthResult | Promise<SessionAuthResult> {
    // Made-up values (valid checksum, no valid tag) cost no SQL.
    const issued = this.keyTags.mayHaveIssued(parsed);
    if (issued === false) return { ok: false, reason: "INVALID", method };
    const read = issued === true ? this.read(method, hash) : issued.then((may) => (may ? this.read(method, hash) : null));
    return read.then((entry) => {
      if (!entry) return { ok: false, reason: "INVALID", method };
      const verdict = this.check(entry);
      return verdict === IDLE ? { ok: false, reason: "EXPIRED", method, account: { userId: entry.userId, email: entry.email } } : verdict;
    });
  }

  private check(entry: CachedSession): SessionAuthResult | typeof IDLE {
    if (!entry.active) return { ok: false, reason: "INVALID", method: entry.method, account: { userId: entry.userId, email: entry.email } };
    const now = this.now();
    const { activity } = entry;
    if (now >= activity.expiresAtMs) return { ok: false, reason: "EXPIRED", method: entry.method, account: { userId: entry.userId, email: entry.email } };
    if (now - activity.lastSeenMs >= this.options.idleTimeoutMs) return IDLE;
    if (now > activity.lastSeenMs) activity.lastSeenMs = now;
    const queued = this.activity.record(activity.sessionId, activity.written, now);
    if (queued) activity.written = queued;
    return (entry.accepted ??= Object.freeze({ ok: true, identity: Object.freeze(identityOf(entry)) }));
  }

  private async read(method: CachedSession["method"], hash: string): Promise<CachedSession | null> {
    const version = this.cache.version;
    const row = await this.lookups[method](hash);
    if (!row || !hashesEqual(String(row.secret_hash), hash)) return null;
    const entry = this.toEntry(method, row);
    // Only sessions that authenticate are kept: a deactivated owner may be reactivated without a bump.
    if (entry.active) this.cache.set(hash, entry, version);
    return entry;
  }

  private toEntry(method: CachedSession["method"], row: Row): CachedSession {
    return {
      activity: this.cache.activity(Number(row.session_id), fromSqlDateTime(row.last_seen_at)!, fromSqlDateTime(row.expires_at)!.getTime()),
      method,
      userId: Number(row.user_id),
      email: String(row.email),
      isAdmin: fromSqlBoolean(row.is_admin),
      active: fromSqlBoolean(row.active),
      displayName: (row.display_name as string | null) ?? null,
      userCreatedAt: fromSqlDateTime(row.user_created_at)!,
    };
  }
}

function identityOf(entry: CachedSession): Identity {
  return {
    userId: entry.userId,
    email: entry.email,
    isAdmin: entry.isAdmin,
    method: entry.method,
    keyId: null,
    sessionId: entry.activity.sessionId,
    readOnly: false,
    profile: Object.freeze({ displayName: entry.displayName, createdAt: entry.userCreatedAt }),
  };
}
