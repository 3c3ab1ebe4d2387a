import type { DataSource, EntityManager } from "typeorm";
import { fromSqlDateTime, toSqlDateTime } from "../db/data-source";
import { inTransaction } from "../db/transactions";
import { AuditAction, type AuditActor } from "../entities/audit-event.entity";
import { Session, SessionKey, USER_AGENT_MAX_LENGTH } from "../entities/session.entity";
import { BadUserInputError, ForbiddenError } from "../errors";
import type { AuditService } from "./audit.service";
import type { RevocationEpoch } from "../keys/revocation-epoch";
import type { SettingsService } from "./settings.service";
import type { KeyTags } from "../keys/key-tags";

export interface SessionLifetimes {
  /** A session unused for this long has ended. */
  idleTimeoutMs: number;
  /** A session ends this long after login, however busy. */
  maxLifetimeMs: number;
}

/** Beyond this many live sessions per user, logging in again ends the oldest. */
export const MAX_SESSIONS_PER_USER = 50;
/** Session keys one session may hold. */
export const MAX_KEYS_PER_SESSION = 20;
/** Longest list `sessions` returns (at most MAX_SESSIONS_PER_USER exist anyway). */
const MAX_LISTED = MAX_SESSIONS_PER_USER;
const DESCRIPTION_MAX_LENGTH = 256;
/**
 * Idle sessions are purged this long after they look idle in the database: last_seen_at is
 * written behind, so another instance may have served one a few seconds ago without saying so yet.
 */
const PURGE_GRACE_MS = 5 * 60_000;

export const SESSION_KEYS_DISABLED_MESSAGE = "Session key generation is currently not enabled on this server.";

export interface SessionClient {
  ip: string;
  userAgent?: string | null;
}

/** Someone who is ending sessions: the user themselves, an admin, or the system. */
export type SessionActor = AuditActor;

/**
 * Login sessions' lifecycle: start, list, end, session keys, purge. Every write that ends a live
 * session bumps the revocation epoch in its transaction and waits for it to settle, like a key
 * revocation: by the time it returns no instance accepts the session or its keys.
 */
export class SessionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyTags: Pick<KeyTags, "issue">,
    private readonly revocations: Pick<RevocationEpoch, "bump" | "settled">,
    private readonly audit: AuditService,
    private readonly settings: Pick<SettingsService, "get">,
    readonly lifetimes: SessionLifetimes,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A new session for a user whose password was just checked. `replacing`: the session the
   * browser had until now (a login over a live session ends it: one cookie, one session).
   */
  async start(user: { userId: number; email: string }, client: SessionClient, replacing?: number): Promise<{ token: string; session: Session }> {
    const { key: token, hash } = await this.keyTags.issue("cookie");
    const now = new Date(this.now());
    const session = Object.assign(new Session(), {
      tokenHash: hash,
      userId: user.userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.lifetimes.maxLifetimeMs),
      ip: client.ip.slice(0, 64),
      userAgent: client.userAgent ? client.userAgent.slice(0, USER_AGENT_MAX_LENGTH) : null,
      current: true,
    });
    const { ended, sessionId } = await inTransaction(this.dataSource, async (manager) => {
      // A copy: insert() writes the new id into what it is given, and a deadlock victim's second
      // try (inTransaction) must not send the first try's rolled-back id.
      const inserted = await manager.getRepository(Session).insert({ ...session });
      const sessionId = Number(inserted.identifiers[0].id);
      const excess: Array<{ id: unknown }> = await manager.query(
        "SELECT id FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 1000 OFFSET ?",
        [user.userId, MAX_SESSIONS_PER_USER],
      );
      const endedIds = [...excess.map((row) => Number(row.id)), ...(replacing !== undefined ? [replacing] : [])];
      const ended = await this.deleteSessions(manager, endedIds);
      await this.audit.record({ action: AuditAction.USER_LOGGED_IN, actor: { ...user, ip: client.ip }, detail: `session ${sessionId}` }, manager);
      return { ended, sessionId };
    });
    session.id = sessionId;
    if (ended > 0) await this.revocations.settled();
    return { token, session };
  }

  /** Logout: ends one session and its keys. False when it had ended already. */
  async end(sessionId: number, actor: SessionActor): Promise<boolean> {
    const ended = await inTransaction(this.dataSource, async (manager) => {
      const count = await this.deleteSessions(manager, [sessionId]);
      await this.audit.record({ action: AuditAction.USER_LOGGED_OUT, actor, detail: `session ${sessionId}` }, manager);
      return count;
    });
    if (ended > 0) await this.revocations.settled();
    return ended > 0;
  }

  /**
   * Ends every session of a user and their session keys (deactivation, password change, deletion,
   * an admin's or the user's own request), except `except`. Inside the caller's transaction when
   * `manager` is given: the caller then bumps nothing more (this does) and calls settled() after
   * its commit; otherwise in a transaction of its own, settled before it returns.
   */
  async endAllForUser(userId: number, options: { except?: number; manager?: EntityManager } = {}): Promise<number> {
    const work = async (manager: EntityManager) => {
      const rows: Array<{ id: unknown }> = await manager.query("SELECT id FROM sessions WHERE user_id = ?", [userId]);
      return this.deleteSessions(manager, rows.map((row) => Number(row.id)).filter((id) => id !== options.except));
    };
    if (options.manager) return work(options.manager);
    const ended = await inTransaction(this.dataSource, work);
    if (ended > 0) await this.revocations.settled();
    return ended;
  }

  /**
   * One of the user's own sessions (and its session keys), from the Account page's End button.
   * False when no live session of theirs has this id: another user's session is not told apart
   * from a missing one.
   */
  async endOwn(userId: number, sessionId: number, actor: SessionActor): Promise<boolean> {
    const ended = await inTransaction(this.dataSource, async (manager) => {
      const owned: Array<{ id: unknown }> = await manager.query("SELECT id FROM sessions WHERE id = ? AND user_id = ?", [sessionId, userId]);
      if (owned.length === 0) return 0;
      const count = await this.deleteSessions(manager, [sessionId]);
      if (count > 0) await this.audit.record({ action: AuditAction.SESSIONS_ENDED, actor, detail: `session ${sessionId} of user ${userId}`, details: { userId, sessionIds: [sessionId], count } }, manager);
      return count;
    });
    if (ended > 0) await this.revocations.settled();
    return ended > 0;
  }

  /** endAllForUser with its audit event, for the GraphQL mutations (admin: any user; a user: their others). */
  async endSessionsOf(userId: number, actor: SessionActor, except?: number): Promise<number> {
    const ended = await inTransaction(this.dataSource, async (manager) => {
      const count = await this.endAllForUser(userId, { except, manager });
      if (count > 0) await this.audit.record({ action: AuditAction.SESSIONS_ENDED, actor, detail: `${count} session(s) of user ${userId}${except !== undefined ? `, all but session ${except}` : ""}` }, manager);
      return count;
    });
    if (ended > 0) await this.revocations.settled();
    return ended;
  }

  /** A user's live sessions, most recently used first. */
  async list(userId: number, currentSessionId?: number): Promise<Session[]> {
    const now = this.now();
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
       WHERE user_id = ? AND expires_at > ? AND last_seen_at > ?
       ORDER BY last_seen_at DESC, id DESC LIMIT ${MAX_LISTED}`,
      [userId, toSqlDateTime(new Date(now)), toSqlDateTime(new Date(now - this.lifetimes.idleTimeoutMs))],
    );
    return rows.map((row) =>
      Object.assign(new Session(), {
        id: Number(row.id),
        userId,
        createdAt: fromSqlDateTime(row.created_at)!,
        lastSeenAt: fromSqlDateTime(row.last_seen_at)!,
        expiresAt: fromSqlDateTime(row.expires_at)!,
        ip: (row.ip as string | null) ?? null,
        userAgent: (row.user_agent as string | null) ?? null,
        current: Number(row.id) === currentSessionId,
      }),
    );
  }

  /** A key bound to the session `sessionId`; the caller has checked that the request came with its cookie. */
  async issueKey(sessionId: number, actor: SessionActor, description?: string | null): Promise<string> {
    if (!(await this.settings.get()).sessionKeysEnabled) throw new ForbiddenError("SESSION_KEYS_DISABLED", SESSION_KEYS_DISABLED_MESSAGE);
    const text = description?.trim() || null;
    if (text && text.length > DESCRIPTION_MAX_LENGTH) throw new BadUserInputError(`description must be at most ${DESCRIPTION_MAX_LENGTH} characters.`, "description");
    const generated = await this.keyTags.issue("session");
    await inTransaction(this.dataSource, async (manager) => {
      const held: Array<{ n: unknown }> = await manager.query("SELECT COUNT(*) AS n FROM session_keys WHERE session_id = ?", [sessionId]);
      if (Number(held[0]?.n ?? 0) >= MAX_KEYS_PER_SESSION) throw new BadUserInputError(`A session may hold at most ${MAX_KEYS_PER_SESSION} session keys.`);
      const inserted = await manager.getRepository(SessionKey).insert({ sessionId, keyHash: generated.hash, hint: generated.hint, description: text, createdAt: new Date(this.now()) });
      await this.audit.record(
        { action: AuditAction.SESSION_KEY_GENERATED, actor, detail: `session key ${Number(inserted.identifiers[0].id)} (${generated.hint}) of session ${sessionId}` },
        manager,
      );
    });
    return generated.key;
  }

  /**
   * Deletes sessions past their absolute maximum or idle beyond the timeout (and a grace). Needs
   * no bump: every instance refuses them by their times already.
   */
  async purgeExpired(): Promise<number> {
    const now = this.now();
    const ended = "expires_at <= :now OR last_seen_at <= :idleSince";
    const times = { now: toSqlDateTime(new Date(now)), idleSince: toSqlDateTime(new Date(now - this.lifetimes.idleTimeoutMs - PURGE_GRACE_MS)) };
    // In a transaction of its own: on SQLite's one connection a bare statement could join, and be
    // rolled back with, another write's. Session keys first, as deleteSessions does.
    return inTransaction(this.dataSource, async (manager) => {
      await manager.createQueryBuilder().delete().from(SessionKey).where(`session_id IN (SELECT id FROM sessions WHERE ${ended})`, times).execute();
      const result = await manager.createQueryBuilder().delete().from(Session).where(ended, times).execute();
      return result.affected ?? 0;
    });
  }

  /** Session keys go with their session (ON DELETE CASCADE); deleted here too, so no driver setting matters. */
  private async deleteSessions(manager: EntityManager, ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const placeholders = ids.map(() => "?").join(", ");
    await manager.query(`DELETE FROM session_keys WHERE session_id IN (${placeholders})`, ids);
    const existing: Array<{ n: unknown }> = await manager.query(`SELECT COUNT(*) AS n FROM sessions WHERE id IN (${placeholders})`, ids);
    const count = Number(existing[0]?.n ?? 0);
    if (count === 0) return 0;
    await this.revocations.bump(manager);
    await manager.query(`DELETE FROM sessions WHERE id IN (${placeholders})`, ids);
    return count;
  }
}
