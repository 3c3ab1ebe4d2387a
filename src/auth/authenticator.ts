import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { fromSqlBoolean, fromSqlDateTime } from "../db/data-source";
import { isExpired } from "../entities/api-key.entity";
import { canonicalEmail } from "../entities/email";
import type { AuthFailureReason, AuthMistake } from "../errors";
import type { LastUsedRecorder } from "../keys/last-used-recorder";
import { API_KEY_LENGTH, hashApiKey, hashesEqual, parseApiKey, UNTAGGED_KEY_LENGTH } from "../keys/api-key-format";
import type { Credentials } from "./credentials";
import type { CachedKey, KeyCache } from "../keys/key-cache";
import { createKeyLookup, type KeyLookup, type KeyRow } from "../keys/key-lookup";
import type { KeyTags } from "../keys/key-tags";
import type { AuthMethod, Identity } from "./identity";
import type { SessionAuthenticator } from "./sessions/session-authenticator";
import type { PasswordHasher } from "./password-hasher";

export type AuthResult =
  | { ok: true; identity: Identity | null }
  | {
      ok: false;
      reason: Exclude<AuthFailureReason, "MISSING">;
      method: AuthMethod | "unknown";
      /** The account aimed at, when it exists. */
      account?: { userId: number; email: string };
      /** What the client evidently got wrong, when the request alone shows it. */
      mistake?: AuthMistake;
    };

const MALFORMED: AuthResult = Object.freeze({ ok: false, reason: "MALFORMED", method: "unknown" });

/**
 * What authentication needs of the key service: the first use of a rotated key retires the key it
 * replaced, and a key whose rotation overlap ran out is told apart from an expired one. Declared
 * here so that auth/ depends on these methods, not on the service class.
 */
export interface RotationFinisher {
  retirePredecessor(successor: { keyId: number; userId: number; email: string }, predecessorId: number): Promise<void>;
  hasSuccessor(keyId: number): Promise<boolean>;
}

/** The account a login names, as stored; found before any bcrypt, so the throttle can key on it. */
export interface PasswordAccount {
  userId: number;
  email: string;
  passwordHash: string;
  isAdmin: boolean;
  active: boolean;
  /** A reset password: good for changeMyPassword only, until changed. */
  passwordChangeRequired: boolean;
}

export interface PasswordChecking {
  hasher: Pick<PasswordHasher, "verify" | "isOutdated">;
  /** The user service's: replaces a hash of an older cost once a login proved the password. */
  users: { rehashPassword(userId: number, outdatedHash: string, password: string): Promise<void> };
  logger: Pick<Logger, "warn">;
}

/** Credentials in, identity out: the only place that decides who a request is. */
export class Authenticator {
  private readonly lookupKey: KeyLookup;

  constructor(
    private readonly dataSource: DataSource,
    private readonly lastUsed: LastUsedRecorder,
    private readonly rotations: RotationFinisher,
    private readonly cache: KeyCache,
    private readonly keyTags: Pick<KeyTags, "mayHaveIssued">,
    private readonly passwords: PasswordChecking,
    /** Session cookies and session keys (src/auth/sessions/). */
    private readonly sessions: Pick<SessionAuthenticator, "authenticateCookie" | "authenticateKey">,
  ) {
    this.lookupKey = createKeyLookup(dataSource);
  }

  /**
   * Synchronous when it can be (no credentials, malformed ones, a key the cache answers): a key
   * request then costs no promise, while a database read or bcrypt comes back as a Promise.
   */
  authenticate(credentials: Credentials, now?: Date): AuthResult | Promise<AuthResult> {
    switch (credentials.kind) {
      case "none":
        return { ok: true, identity: null };
      case "malformed":
        return credentials.mistake ? { ok: false, reason: "MALFORMED", method: "unknown", mistake: credentials.mistake } : MALFORMED;
      case "apikey":
        return this.authenticateKey(credentials.key, now);
      case "password":
        return this.findPasswordAccount(credentials.email).then((account) => this.verifyPassword(account, credentials.password));
      case "session":
        return this.sessions.authenticateCookie(credentials.token);
    }
  }

  private authenticateKey(candidate: string, now: Date | undefined): AuthResult | Promise<AuthResult> {
    // The cache first: it holds only keys that passed parseApiKey (set() is reached from readKey
    // alone), and SHA-256 does not collide, so a hit proves shape and checksum without checking
    // them again. Gated on the two key lengths: other garbage is refused before any hashing.
    let hash: string | undefined;
    if (candidate.length === API_KEY_LENGTH || candidate.length === UNTAGGED_KEY_LENGTH) {
      hash = hashApiKey(candidate);
      const cached = this.cache.get(hash);
      if (cached) return this.checkKey(cached, now);
    }
    const parsed = parseApiKey(candidate);
    if (!parsed.ok) return { ok: false, reason: parsed.reason, method: "apikey" }; // no database work for garbage
    const keyHash = hash ?? hashApiKey(parsed.key);
    // A session key (xts_) is looked up with its session; a cookie value is no key.
    if (parsed.kind === "session") return this.sessions.authenticateKey(parsed, keyHash);
    if (parsed.kind === "cookie") return { ok: false, reason: "INVALID", method: "apikey" };
    // A key the database is known not to hold, or one this server cannot have issued: no SQL.
    if (this.cache.isAbsent(keyHash)) return { ok: false, reason: "INVALID", method: "apikey" };
    const issued = this.keyTags.mayHaveIssued(parsed);
    if (issued === false) return { ok: false, reason: "INVALID", method: "apikey" };
    const key = issued === true ? this.readKey(keyHash) : issued.then((may) => (may ? this.readKey(keyHash) : null));
    return key.then((found) => this.checkKey(found, now));
  }

  private checkKey(key: CachedKey | null, now: Date | undefined): AuthResult | Promise<AuthResult> {
    if (!key) return { ok: false, reason: "INVALID", method: "apikey" };
    if (!key.active) return { ok: false, reason: "INVALID", method: "apikey", account: { userId: key.userId, email: key.email } };
    const nowMs = now === undefined ? Date.now() : now.getTime();
    if (isExpired(key.expiresAt, nowMs)) return this.expired(key);
    const queued = this.lastUsed.record(key.keyId, key.lastUsedAt, now ?? nowMs);
    if (queued) key.lastUsedAt = queued;
    // One frozen result per cached key, shared by its requests: nothing downstream writes to an identity.
    return (key.accepted ??= Object.freeze({ ok: true, identity: Object.freeze(identityOf(key)) })) as AuthResult;
  }

  /** A rotation's overlap that ran out is not an expiry: the key has a successor to use. */
  private async expired(key: CachedKey): Promise<AuthResult> {
    const reason = (await this.rotations.hasSuccessor(key.keyId)) ? "ROTATED" : "EXPIRED";
    return { ok: false, reason, method: "apikey", account: { userId: key.userId, email: key.email } };
  }

  /** The one SQL statement of an authenticated request, when the cache cannot answer. */
  private async readKey(hash: string): Promise<CachedKey | null> {
    const cacheVersion = this.cache.version;
    const row = await this.lookupKey(hash);
    if (!row) {
      this.cache.noteAbsent(hash);
      return null;
    }
    if (!hashesEqual(String(row.key_hash), hash)) return null;
    const key = toCachedKey(row);
    if (row.replaces_key_id != null) {
      // First use of a rotated key: the key it replaced stops working before this request ends.
      // Not cached: the next use reads the row again, with the rotation done.
      await this.rotations.retirePredecessor({ keyId: key.keyId, userId: key.userId, email: key.email }, Number(row.replaces_key_id));
      return key;
    }
    // Only keys that authenticate are kept: a deactivated owner may be reactivated without a bump.
    if (key.active) this.cache.set(hash, key, cacheVersion);
    return key;
  }

  /**
   * The account an email names: its canonical form (src/entities/email.ts), compared byte for
   * byte, so an accented or otherwise folded variant never reaches another user's row.
   */
  async findPasswordAccount(email: string): Promise<PasswordAccount | null> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      "SELECT id, email, password_hash, is_admin, active, password_must_change FROM users WHERE email = ?",
      [canonicalEmail(email)],
    );
    const row = rows[0];
    if (!row) return null;
    return { userId: Number(row.id), email: String(row.email), passwordHash: String(row.password_hash), isAdmin: fromSqlBoolean(row.is_admin), active: fromSqlBoolean(row.active), passwordChangeRequired: fromSqlBoolean(row.password_must_change) };
  }

  /**
   * One bcrypt comparison, against the account's hash or, for an unknown email, a dummy of the same
   * cost. A proven password whose hash is of an older cost is rehashed before the answer.
   */
  async verifyPassword(account: PasswordAccount | null, password: string): Promise<AuthResult> {
    const matches = await this.passwords.hasher.verify(password, account?.passwordHash ?? null);
    if (!account || !matches || !account.active) {
      return { ok: false, reason: "INVALID", method: "password", account: account ? { userId: account.userId, email: account.email } : undefined };
    }
    if (this.passwords.hasher.isOutdated(account.passwordHash)) {
      // A failed rehash must not fail a correct login: the next login tries again.
      await this.passwords.users.rehashPassword(account.userId, account.passwordHash, password).catch((error: unknown) => {
        this.passwords.logger.warn({ err: error, userId: account.userId }, "could not rehash an outdated password hash");
      });
    }
    return {
      ok: true,
      identity: {
        userId: account.userId,
        email: account.email,
        isAdmin: account.isAdmin,
        method: "password",
        keyId: null,
        readOnly: false,
        passwordChangeRequired: account.passwordChangeRequired,
      },
    };
  }
}

function identityOf(key: CachedKey): Identity {
  return {
    userId: key.userId,
    email: key.email,
    isAdmin: key.isAdmin,
    method: "apikey",
    keyId: key.keyId,
    readOnly: key.readOnly,
    profile: Object.freeze({ displayName: key.displayName, createdAt: key.userCreatedAt }),
  };
}

function toCachedKey(row: KeyRow): CachedKey {
  return {
    keyId: Number(row.key_id),
    userId: Number(row.user_id),
    email: String(row.email),
    isAdmin: fromSqlBoolean(row.is_admin),
    active: fromSqlBoolean(row.active),
    expiresAt: fromSqlDateTime(row.expires_at),
    readOnly: fromSqlBoolean(row.read_only),
    displayName: (row.display_name as string | null) ?? null,
    userCreatedAt: fromSqlDateTime(row.user_created_at)!,
    lastUsedAt: fromSqlDateTime(row.last_used_at),
  };
}
