import bcrypt from "bcrypt";
import type { DataSource } from "typeorm";
import { fromSqlBoolean, fromSqlDateTime } from "../db/data-source";
import { isExpired } from "../entities/api-key.entity";
import type { AuthFailureReason } from "../errors";
import type { ApiKeyService } from "../services/api-key.service";
import type { LastUsedRecorder } from "../services/last-used-recorder";
import { hashApiKey, hashesEqual, parseApiKey } from "./api-key-format";
import type { Credentials } from "./credentials";
import { createKeyLookup, type KeyLookup } from "./key-lookup";
import type { Identity } from "./identity";

export type AuthResult =
  | { ok: true; identity: Identity | null }
  | { ok: false; reason: Exclude<AuthFailureReason, "MISSING">; method: "apikey" | "password" | "unknown"; /** The account aimed at, when it exists. */ account?: { userId: number; email: string } };

// Compared against when the email is unknown, so the response time does not reveal which emails exist.
const DUMMY_PASSWORD_HASH = bcrypt.hashSync("timing-equaliser-not-a-password", 10);

/** Credentials in, identity out: the only place that decides who a request is. */
export class Authenticator {
  private readonly lookupKey: KeyLookup;

  constructor(
    private readonly dataSource: DataSource,
    private readonly lastUsed: LastUsedRecorder,
    private readonly apiKeys: Pick<ApiKeyService, "retirePredecessor">,
  ) {
    this.lookupKey = createKeyLookup(dataSource);
  }

  async authenticate(credentials: Credentials, now: Date = new Date()): Promise<AuthResult> {
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

  private async authenticateKey(candidate: string, now: Date): Promise<AuthResult> {
    const parsed = parseApiKey(candidate);
    if (!parsed.ok) return { ok: false, reason: parsed.reason, method: "apikey" }; // no database work for garbage
    const hash = hashApiKey(parsed.key);
    const row = await this.lookupKey(hash); // the one SQL statement of an authenticated request
    if (!row || !hashesEqual(String(row.key_hash), hash)) return { ok: false, reason: "INVALID", method: "apikey" };
    const account = { userId: Number(row.user_id), email: String(row.email) };
    if (!fromSqlBoolean(row.active)) return { ok: false, reason: "INVALID", method: "apikey", account };
    if (isExpired(fromSqlDateTime(row.expires_at), now)) return { ok: false, reason: "EXPIRED", method: "apikey", account };
    const keyId = Number(row.key_id);
    if (row.replaces_key_id != null) {
      // First use of a rotated key: the key it replaced stops working before this request ends.
      await this.apiKeys.retirePredecessor({ keyId, ...account }, Number(row.replaces_key_id));
    }
    this.lastUsed.record(keyId, fromSqlDateTime(row.last_used_at), now);
    return {
      ok: true,
      identity: {
        userId: Number(row.user_id),
        email: String(row.email),
        isAdmin: fromSqlBoolean(row.is_admin),
        method: "apikey",
        keyId,
        readOnly: fromSqlBoolean(row.read_only),
        profile: { displayName: (row.display_name as string | null) ?? null, createdAt: fromSqlDateTime(row.user_created_at)! },
      },
    };
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
