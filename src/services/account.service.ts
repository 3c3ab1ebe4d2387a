import { randomBytes } from "node:crypto";
import { canonicalEmail } from "../entities/email";
import type { DataSource, EntityManager } from "typeorm";
import { fromSqlBoolean, fromSqlDateTime, toSqlDateTime } from "../db/data-source";
import { inTransaction } from "../db/transactions";
import { hydrateJoinedUser, JOINED_USER_COLUMNS } from "../db/user-columns";
import { AuditAction, type AuditActor } from "../entities/audit-event.entity";
import { User } from "../entities/user.entity";
import { BadUserInputError, NotFoundError } from "../errors";
import type { AuditService } from "./audit.service";
import type { CountCache } from "./count-cache";
import { decodeCursor, encodeCursor, pageSize } from "./cursor";
import { parseId } from "./ids";
import { describePasswordProblem } from "./password-policy";
import type { RevocationEpoch } from "../keys/revocation-epoch";
import type { PasswordHasher } from "./password-hasher";

/**
 * Where login sessions plug in: a password change or reset ends the user's sessions, and deleting
 * the user ends them all, each inside the transaction that makes the change. API keys are not
 * sessions: a password change leaves them working.
 */
export interface SessionStore {
  /** Ends the user's sessions except `keep` (the one making the change); returns how many ended. */
  endSessionsOf(manager: EntityManager, userId: number, keep?: number | null): Promise<number>;
}

/**
 * A current password that does not match. The GraphQL layer counts it against the account like a
 * failed login, with the same throttle, which it consults before calling changeOwnPassword.
 */
export class WrongCurrentPasswordError extends BadUserInputError {
  constructor() {
    super("currentPassword is not your current password.", "currentPassword");
  }
}

export interface UserFilterInput {
  emailContains?: string | null;
  active?: boolean | null;
  isAdmin?: boolean | null;
}

/** What the users list shows beside the account: its keys and their use. */
export interface UserActivity {
  keyCount: number;
  activeKeyCount: number;
  lastActivityAt: Date | null;
  passwordChangeRequired: boolean;
  passwordChangedAt: Date | null;
}

export type ListedUser = User & UserActivity;

export interface UserPage {
  nodes: ListedUser[];
  hasNextPage: boolean;
  endCursor: string | null;
  countTotal: () => Promise<number>;
}

export interface PasswordChanger extends AuditActor {
  userId: number;
  email: string;
  /** The session the change is made from, which stays; absent for API keys and Basic passwords. */
  /** The login session making the change, which stays; every other session of the user ends. */
  sessionId?: number | null;
}

export const MAX_USERS_PAGE = 500;
const ONE_TIME_PASSWORD_BYTES = 18; // 24 base64url characters, 144 random bits
const USER_NOT_FOUND = "No user with this id.";
const CURSOR_TAG = "users";

const ACTIVITY_COLUMNS = `u.password_must_change, u.password_changed_at,
  (SELECT COUNT(*) FROM api_keys k WHERE k.owner_id = u.id) AS key_count,
  (SELECT COUNT(*) FROM api_keys k WHERE k.owner_id = u.id AND (k.expires_at IS NULL OR k.expires_at > ?)) AS active_key_count,
  (SELECT MAX(k.last_used_at) FROM api_keys k WHERE k.owner_id = u.id) AS last_activity_at`;

/**
 * Accounts after creation: the users list, password changes and resets, and deletion. The rules
 * are the same from GraphQL and from the admin CLI, which both call these methods.
 */
export class AccountService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    /** Deleting a user deletes their keys: bumped and waited for like any revocation. */
    private readonly revocations: Pick<RevocationEpoch, "bump" | "settled">,
    /** The key list's totalCount memo, stale once a deletion took keys with it. */
    private readonly keyCounts: CountCache,
    private readonly sessions: readonly SessionStore[] = [],
    private readonly passwords: Pick<PasswordHasher, "hash" | "verify">,
  ) {}

  /** Ordered by id (creation order); keyset-paged. */
  async list(args: { filter?: UserFilterInput | null; first?: number | null; after?: string | null }, now: Date = new Date()): Promise<UserPage> {
    const first = pageSize(args.first, 50, MAX_USERS_PAGE);
    const where = userConditions(args.filter ?? {});
    const conditions = [...where.conditions];
    const params: unknown[] = [toSqlDateTime(now), ...where.params];
    if (args.after) {
      conditions.push("u.id > ?");
      params.push(decodeCursor(args.after, CURSOR_TAG).id);
    }
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${JOINED_USER_COLUMNS}, ${ACTIVITY_COLUMNS}
       FROM users u ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""} ORDER BY u.id LIMIT ?`,
      [...params, first + 1],
    );
    const nodes = rows.slice(0, first).map((row): ListedUser => Object.assign(hydrateJoinedUser(row), hydrateActivity(row)));
    const last = nodes[nodes.length - 1];
    return {
      nodes,
      hasNextPage: rows.length > first,
      endCursor: last ? encodeCursor(CURSOR_TAG, null, last.id) : null,
      countTotal: async () => {
        const [row] = await this.dataSource.query(`SELECT COUNT(*) AS total FROM users u ${where.conditions.length ? `WHERE ${where.conditions.join(" AND ")}` : ""}`, where.params);
        return Number(row.total);
      },
    };
  }

  /** The activity columns of many users in one statement (a page of keys' owners, say). */
  async activityOf(userIds: readonly number[], now: Date = new Date()): Promise<Map<number, UserActivity>> {
    const activity = new Map<number, UserActivity>();
    const ids = [...new Set(userIds)];
    for (let i = 0; i < ids.length; i += MAX_USERS_PAGE) {
      const chunk = ids.slice(i, i + MAX_USERS_PAGE);
      const rows: Row[] = await this.dataSource.query(`SELECT u.id, ${ACTIVITY_COLUMNS} FROM users u WHERE u.id IN (${chunk.map(() => "?").join(", ")})`, [toSqlDateTime(now), ...chunk]);
      for (const row of rows) activity.set(Number(row.id), hydrateActivity(row));
    }
    return activity;
  }

  /**
   * The new password's rules, checked without bcrypt (before any attempt at the current one is
   * counted): the password policy, and differing from the current password given (if that one is
   * wrong, the change fails on it anyway).
   */
  checkNewPassword(email: string, currentPassword: string, newPassword: string): void {
    const problem = describePasswordProblem(newPassword, email);
    if (problem) throw new BadUserInputError(`newPassword ${problem}.`, "newPassword");
    if (newPassword === currentPassword) throw new BadUserInputError("newPassword must differ from the current password.", "newPassword");
  }

  /**
   * The caller's own password. The current one must be given (a stolen API key alone cannot take
   * the account over; the caller throttles WrongCurrentPasswordError like failed logins). Ends the caller's other sessions;
   * API keys keep working: they are separate credentials.
   */
  async changeOwnPassword(changer: PasswordChanger, currentPassword: string, newPassword: string): Promise<void> {
    this.checkNewPassword(changer.email, currentPassword, newPassword);
    const [row]: Row[] = await this.dataSource.query("SELECT password_hash FROM users WHERE id = ?", [changer.userId]);
    if (!row) throw new NotFoundError(USER_NOT_FOUND);
    const currentHash = String(row.password_hash);
    if (!(await this.passwords.verify(currentPassword, currentHash))) {
      this.audit.noteAuthFailure({ reason: "WRONG_CURRENT_PASSWORD", method: "password", ip: changer.ip ?? "unknown", userId: changer.userId, email: changer.email });
      throw new WrongCurrentPasswordError();
    }
    const newHash = await this.passwords.hash(newPassword);
    const sessionsEnded = await inTransaction(this.dataSource, async (manager) => {
      // Only over the hash just checked: of two changes racing, the second finds it gone.
      const changed = await manager
        .getRepository(User)
        .update({ id: changer.userId, passwordHash: currentHash }, { passwordHash: newHash, passwordMustChange: false, passwordChangedAt: new Date() });
      if (changed.affected !== 1) throw new WrongCurrentPasswordError();
      const sessionsEnded = await this.endSessions(manager, changer.userId, changer.sessionId ?? null);
      await this.audit.record(
        {
          action: AuditAction.PASSWORD_CHANGED,
          actor: changer,
          detail: `user ${changer.userId} ${changer.email} changed their password; ${sessionsEnded} other session(s) ended, API keys unchanged`,
          details: { userId: changer.userId, email: changer.email, sessionsEnded },
        },
        manager,
      );
      return sessionsEnded;
    });
    // Ending sessions bumped the revocation generation: wait until no instance accepts them.
    if (sessionsEnded > 0) await this.revocations.settled();
  }

  /**
   * A one-time password for a user who lost theirs, returned once (this service sends no email,
   * so the admin hands it over). Until the user changes it, it is good for changeMyPassword only.
   * Ends every session of the user; their API keys keep working.
   */
  async resetPassword(rawId: string, actor: AuditActor): Promise<string> {
    const id = parseId(rawId);
    if (id === null) throw new NotFoundError(USER_NOT_FOUND);
    const oneTimePassword = randomBytes(ONE_TIME_PASSWORD_BYTES).toString("base64url");
    const hash = await this.passwords.hash(oneTimePassword);
    const sessionsEnded = await inTransaction(this.dataSource, async (manager) => {
      const user = await manager.getRepository(User).findOneBy({ id });
      if (!user) throw new NotFoundError(USER_NOT_FOUND);
      await manager.getRepository(User).update({ id }, { passwordHash: hash, passwordMustChange: true, passwordChangedAt: new Date() });
      const sessionsEnded = await this.endSessions(manager, id, null);
      await this.audit.record(
        {
          action: AuditAction.PASSWORD_RESET,
          actor,
          detail: `password of user ${id} ${user.email} reset to a one-time password; ${sessionsEnded} session(s) ended, API keys unchanged`,
          details: { userId: id, email: user.email, sessionsEnded },
        },
        manager,
      );
      return sessionsEnded;
    });
    if (sessionsEnded > 0) await this.revocations.settled();
    return oneTimePassword;
  }

  /**
   * Deletes the user with their keys, sessions and stored idempotent results, in one transaction.
   * The audit trail stays: its rows keep the email of who acted (actor_id is cleared, so a later
   * user given the same id is never taken for the author). The last active site admin stays too.
   */
  async deleteUser(rawId: string, actor: AuditActor): Promise<{ email: string; keysDeleted: number }> {
    const id = parseId(rawId);
    if (id === null) throw new NotFoundError(USER_NOT_FOUND);
    const deleted = await inTransaction(this.dataSource, async (manager) => {
      // Locks the active admins' rows (MySQL; SQLite runs one write transaction at a time): two
      // admins deleting each other at once cannot both pass the last-admin check.
      const admins: Row[] = await manager.query(`SELECT id FROM users WHERE is_admin = ? AND active = ?${lockingClause(this.dataSource)}`, [true, true]);
      const user = await manager.getRepository(User).findOneBy({ id });
      if (!user) throw new NotFoundError(USER_NOT_FOUND);
      if (user.id === actor.userId) throw new BadUserInputError("You cannot delete your own account.", "id");
      if (user.isAdmin && user.active && admins.every((admin) => Number(admin.id) === id)) {
        throw new BadUserInputError("This is the last active site admin: create or activate another admin before deleting it.", "id");
      }
      await this.revocations.bump(manager);
      const keys: Row[] = await manager.query("SELECT id FROM api_keys WHERE owner_id = ?", [id]);
      await manager.query("DELETE FROM api_keys WHERE owner_id = ?", [id]);
      const sessionsEnded = await this.endSessions(manager, id, null);
      await manager.query("DELETE FROM idempotent_results WHERE user_id = ?", [id]);
      await manager.query("UPDATE audit_events SET actor_id = NULL WHERE actor_id = ?", [id]);
      await manager.query("DELETE FROM users WHERE id = ?", [id]);
      const keyIds = keys.map((key) => Number(key.id)).sort((a, b) => a - b);
      await this.audit.record(
        {
          action: AuditAction.USER_DELETED,
          actor,
          detail: `user ${id} ${user.email}${user.isAdmin ? " (site admin)" : ""} deleted with ${keyIds.length} key(s) and ${sessionsEnded} session(s)`,
          details: { userId: id, email: user.email, isAdmin: user.isAdmin, keysDeleted: keyIds.length, sessionsEnded, keyIds: keyIds.slice(0, 100) },
        },
        manager,
      );
      return { email: user.email, keysDeleted: keyIds.length };
    }).finally(() => this.keyCounts.clear());
    await this.revocations.settled();
    return deleted;
  }

  private async endSessions(manager: EntityManager, userId: number, keep: number | null): Promise<number> {
    let ended = 0;
    for (const store of this.sessions) ended += await store.endSessionsOf(manager, userId, keep);
    return ended;
  }
}

type Row = Record<string, unknown>;

function userConditions(filter: UserFilterInput): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.emailContains != null && filter.emailContains.trim() !== "") {
    // Emails are stored lower-cased.
    conditions.push("u.email LIKE ? ESCAPE '!'");
    params.push(`%${canonicalEmail(filter.emailContains).replace(/[!%_]/g, (c) => "!" + c)}%`);
  }
  if (filter.active != null) {
    conditions.push("u.active = ?");
    params.push(filter.active);
  }
  if (filter.isAdmin != null) {
    conditions.push("u.is_admin = ?");
    params.push(filter.isAdmin);
  }
  return { conditions, params };
}

function lockingClause(dataSource: DataSource): string {
  return dataSource.options.type === "better-sqlite3" ? "" : " FOR UPDATE";
}

function hydrateActivity(row: Row): UserActivity {
  return {
    keyCount: Number(row.key_count),
    activeKeyCount: Number(row.active_key_count),
    lastActivityAt: fromSqlDateTime(row.last_activity_at),
    passwordChangeRequired: fromSqlBoolean(row.password_must_change),
    passwordChangedAt: fromSqlDateTime(row.password_changed_at),
  };
}
