import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { toSqlDateTime } from "../db/data-source";
import { isUniqueViolation } from "../db/errors";
import { inTransaction } from "../db/transactions";
import { BadUserInputError } from "../errors";

export const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
const MIN_KEY_LENGTH = 16;
const MAX_KEY_LENGTH = 255;

/**
 * Makes a key-creating mutation safe to retry: the same idempotencyKey from the same user within
 * ten minutes gets the first call's result back instead of running again.
 *
 * The result holds a secret, and only hashes of keys may be stored, so the result is kept sealed
 * (AES-256-GCM) under a key derived from the client's idempotencyKey, which is itself never
 * stored: the row is findable by a hash of it, readable only by whoever presents it again, and
 * deleted after the window.
 */
export class IdempotencyService {
  constructor(private readonly dataSource: DataSource) {}

  async run<T>(
    request: { userId: number; operation: string; idempotencyKey: string | null | undefined; args: unknown },
    work: (manager: EntityManager) => Promise<T>,
    now: Date = new Date(),
  ): Promise<{ result: T; replayed: boolean }> {
    const { idempotencyKey } = request;
    if (idempotencyKey === null || idempotencyKey === undefined) {
      return { result: await inTransaction(this.dataSource, work), replayed: false };
    }
    if (idempotencyKey.length < MIN_KEY_LENGTH || idempotencyKey.length > MAX_KEY_LENGTH || /[\u0000-\u001f]/.test(idempotencyKey)) {
      throw new BadUserInputError(`idempotencyKey must be ${MIN_KEY_LENGTH} to ${MAX_KEY_LENGTH} printable characters (a UUID is ideal).`, "idempotencyKey");
    }
    const lookupHash = sha256Hex(`lookup\n${request.userId}\n${request.operation}\n${idempotencyKey}`);
    const argumentsHash = sha256Hex(JSON.stringify(request.args ?? null));
    const context = `${request.userId}|${request.operation}`;

    const freshSince = toSqlDateTime(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS));
    const replay = await this.replay<T>(lookupHash, argumentsHash, idempotencyKey, context, freshSince);
    if (replay.found) return { result: replay.result, replayed: true };

    try {
      const result = await inTransaction(this.dataSource, async (manager) => {
        await manager.query("DELETE FROM idempotent_results WHERE created_at < ?", [freshSince]);
        // Claim first: a concurrent retry with the same key fails here on the unique index.
        await manager.query("INSERT INTO idempotent_results (lookup_hash, user_id, operation, arguments_hash, sealed_result, created_at) VALUES (?, ?, ?, ?, NULL, ?)", [
          lookupHash,
          request.userId,
          request.operation,
          argumentsHash,
          toSqlDateTime(now),
        ]);
        const value = await work(manager);
        await manager.query("UPDATE idempotent_results SET sealed_result = ? WHERE lookup_hash = ?", [seal(JSON.stringify(value), idempotencyKey, context), lookupHash]);
        return value;
      });
      return { result, replayed: false };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const again = await this.replay<T>(lookupHash, argumentsHash, idempotencyKey, context, freshSince);
      if (again.found) return { result: again.result, replayed: true };
      throw error;
    }
  }

  private async replay<T>(
    lookupHash: string,
    argumentsHash: string,
    idempotencyKey: string,
    context: string,
    freshSince: string,
  ): Promise<{ found: true; result: T } | { found: false }> {
    const rows: Array<{ arguments_hash: string; sealed_result: string | null }> = await this.dataSource.query(
      "SELECT arguments_hash, sealed_result FROM idempotent_results WHERE lookup_hash = ? AND created_at >= ?",
      [lookupHash, freshSince],
    );
    const row = rows[0];
    if (!row?.sealed_result) return { found: false };
    if (row.arguments_hash !== argumentsHash) {
      throw new BadUserInputError("This idempotencyKey was already used with different arguments.", "idempotencyKey");
    }
    return { found: true, result: JSON.parse(unseal(row.sealed_result, idempotencyKey, context)) as T };
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function sealingKey(idempotencyKey: string, salt: Buffer, context: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(idempotencyKey, "utf8"), salt, `xta-idempotent-result|${context}`, 32));
}

function seal(plaintext: string, idempotencyKey: string, context: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(idempotencyKey, salt, context), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([salt, iv, cipher.getAuthTag(), ciphertext]).toString("base64");
}

function unseal(sealed: string, idempotencyKey: string, context: string): string {
  const bytes = Buffer.from(sealed, "base64");
  const salt = bytes.subarray(0, 16);
  const iv = bytes.subarray(16, 28);
  const tag = bytes.subarray(28, 44);
  const decipher = createDecipheriv("aes-256-gcm", sealingKey(idempotencyKey, salt, context), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(bytes.subarray(44)), decipher.final()]).toString("utf8");
}
