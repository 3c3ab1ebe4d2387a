import bcrypt from "bcrypt";
import type { DataSource } from "typeorm";
import { fromSqlBoolean, fromSqlDateTime } from "../db/data-source";
import { isExpired } from "../entities/api-key.entity";
import type { AuthFailureReason } from "../errors";
import type { LastUsedRecorder } from "../keys/last-used-recorder";
import { API_KEY_LENGTH, hashApiKey, hashesEqual, parseApiKey, UNTAGGED_KEY_LENGTH } from "../keys/api-key-format";
import type { Credentials } from "./credentials";
import type { CachedKey, KeyCache } from "../keys/key-cache";
import { createKeyLookup, type KeyLookup, type KeyRow } from "../keys/key-lookup";
import type { KeyTags } from "../keys/key-tags";
import type { Identity } from "./identity";

export type AuthResult =
  | { ok: true; identity: Identity | null }
  | { ok: false; reason: Exclude<AuthFailureReason, "MISSING">; method: "apikey" | "password" | "unknown"; /** The account aimed at, when it exists. */ account?: { userId: number; email: string } };

/**
 * What authentication needs of the key service: the first use of a rotated key retires the key it
 * replaced. Declared here so that auth/ depends on this one method, not on the service class.
 */
export interface RotationFinisher {
  retirePredecessor(successor: { keyId: number; userId: number; email: string }, predecessorId: number): Promise<void>;
}

// Compared against when the email is unknown, so the response time does not reveal which emails exist.
const DUMMY_PASSWORD_HASH = bcrypt.hashSync("timing-equaliser-not-a-password", 10);

/** Credentials in, identity out: the only place that decides who a request is. */
export class Authenticator {
  private readonly lookupKey: KeyLookup;

  constructor(
    private readonly dataSource: DataSource,
    private readonly lastUsed: LastUsedRecorder,
    private readonly rotations: RotationFinisher,
    private readonly cache: KeyCache,
    private readonly keyTags: Pick<KeyTags, "mayHaveIssued">,
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
        return { ok: false, reason: "MALFORMED", method: "unknown" };
      case "apikey":
        return this.authenticateKey(credentials.key, now);
      case "password":
        return this.authenticatePassword(credentials.email, credentials.password);
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
    // A key the database is known not to hold, or one this server cannot have issued: no SQL.
    if (this.cache.isAbsent(keyHash)) return { ok: false, reason: "INVALID", method: "apikey" };
    const issued = this.keyTags.mayHaveIssued(parsed);
    if (issued === false) return { ok: false, reason: "INVALID", method: "apikey" };
    const key = issued === true ? this.readKey(keyHash) : issued.then((may) => (may ? this.readKey(keyHash) : null));
    return key.then((found) => this.checkKey(found, now));
  }

  private checkKey(key: CachedKey | null, now: Date | undefined): AuthResult {
    if (!key) return { ok: false, reason: "INVALID", method: "apikey" };
    if (!key.active) return { ok: false, reason: "INVALID", method: "apikey", account: { userId: key.userId, email: key.email } };
    const nowMs = now === undefined ? Date.now() : now.getTime();
    if (isExpired(key.expiresAt, nowMs)) return { ok: false, reason: "EXPIRED", method: "apikey", account: { userId: key.userId, email: key.email } };
    const queued = this.lastUsed.record(key.keyId, key.lastUsedAt, now ?? nowMs);
    if (queued) key.lastUsedAt = queued;
    // One frozen result per cached key, shared by its requests: nothing downstream writes to an identity.
    return (key.accepted ??= Object.freeze({ ok: true, identity: Object.freeze(identityOf(key)) })) as AuthResult;
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

  private async authenticatePassword(email: string, password: string): Promise<AuthResult> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      "SELECT id, email, password_hash, is_admin, active FROM users WHERE email = ?",
      [email.trim().toLowerCase()],
    );
    const row = rows[0];
    const matches = await bcrypt.compare(password, row ? String(row.password_hash) : DUMMY_PASSWORD_HASH);
    if (!row || !matches || !fromSqlBoolean(row.active)) {
      return { ok: false, reason: "INVALID", method: "password", account: row ? { userId: Number(row.id), email: String(row.email) } : undefined };
    }
    return {
      ok: true,
      identity: { userId: Number(row.id), email: String(row.email), isAdmin: fromSqlBoolean(row.is_admin), method: "password", keyId: null, readOnly: false },
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
