import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { toSqlDateTime } from "../db/data-source";
import { isUniqueViolation } from "../db/errors";
import { inTransaction } from "../db/transactions";
import { BadUserInputError } from "../errors";
import { hasUnsafeCharacter } from "../observability/unsafe-characters";

export const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
/** How often expired results are deleted, so none outlives its window by more than this. */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 60_000;
const MIN_KEY_LENGTH = 16;
const MAX_KEY_LENGTH = 255;

/**
 * Makes a key-creating mutation safe to retry: the same idempotencyKey from the same user within
 * ten minutes gets the first call's result back instead of running again.
 *
 * The result holds a secret, and only hashes of keys may be stored, so the result is kept sealed
 * (AES-256-GCM) under a key derived from the client's idempotencyKey and the server's secret; the
 * idempotencyKey itself is never stored. The row is found by an HMAC of the idempotencyKey under
 * the server's secret, so a copy of this table alone can neither find the row of a guessed
 * idempotencyKey nor open any row. Rows are deleted once their window has passed: by a timer
 * (start/stop) and by the purge job.
 */
export class IdempotencyService {
  private timer: NodeJS.Timeout | null = null;
  private secrets: Promise<{ lookup: Buffer; sealing: Buffer }> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    /** The server's secret (the key-tag secret, shared by every instance through the database). */
    private readonly serverSecret: () => Promise<Buffer>,
    private readonly onPurgeError: (error: unknown) => void = () => {},
  ) {}

  /** Deletes expired results every IDEMPOTENCY_PURGE_INTERVAL_MS; the timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.purgeExpired().catch(this.onPurgeError), IDEMPOTENCY_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Deletes every stored result older than the window; returns how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const result = await inTransaction(this.dataSource, (manager) =>
      manager.createQueryBuilder().delete().from("idempotent_results").where("created_at < :freshSince", { freshSince: freshSince(now) }).execute(),
    );
    return result.affected ?? 0;
  }

  async run<T>(
    request: { userId: number; operation: string; idempotencyKey: string | null | undefined; args: unknown },
    work: (manager: EntityManager) => Promise<T>,
    now: Date = new Date(),
  ): Promise<{ result: T; replayed: boolean }> {
    const { idempotencyKey } = request;
    if (idempotencyKey === null || idempotencyKey === undefined) {
      return { result: await inTransaction(this.dataSource, work), replayed: false };
    }
    if (idempotencyKey.length < MIN_KEY_LENGTH || idempotencyKey.length > MAX_KEY_LENGTH || hasUnsafeCharacter(idempotencyKey)) {
      throw new BadUserInputError(`idempotencyKey must be ${MIN_KEY_LENGTH} to ${MAX_KEY_LENGTH} printable characters (a UUID is ideal).`, "idempotencyKey");
    }
    const secrets = await this.derivedSecrets();
    const lookupHash = createHmac("sha256", secrets.lookup).update(`${request.userId}\n${request.operation}\n${idempotencyKey}`, "utf8").digest("hex");
    const argumentsHash = sha256Hex(JSON.stringify(request.args ?? null));
    const sealing: Sealing = { idempotencyKey, serverSecret: secrets.sealing, context: `${request.userId}|${request.operation}` };

    const since = freshSince(now);
    const replay = await this.replay<T>(lookupHash, argumentsHash, sealing, since);
    if (replay.found) return { result: replay.result, replayed: true };

    // A row of this idempotencyKey whose window has passed would block the claim on the unique
    // index. Deleted in a transaction of its own: in the claim's, the range locks MariaDB takes for
    // the DELETE deadlocked concurrent claims of other idempotency keys at their INSERT.
    await inTransaction(this.dataSource, (manager) => manager.query("DELETE FROM idempotent_results WHERE lookup_hash = ? AND created_at < ?", [lookupHash, since]));
    try {
      const result = await inTransaction(this.dataSource, async (manager) => {
        // Claim first: a concurrent retry with the same key fails here on the unique index.
        await manager.query("INSERT INTO idempotent_results (lookup_hash, user_id, operation, arguments_hash, sealed_result, created_at) VALUES (?, ?, ?, ?, NULL, ?)", [
          lookupHash,
          request.userId,
          request.operation,
          argumentsHash,
          toSqlDateTime(now),
        ]);
        const value = await work(manager);
        await manager.query("UPDATE idempotent_results SET sealed_result = ? WHERE lookup_hash = ?", [seal(JSON.stringify(value), sealing), lookupHash]);
        return value;
      });
      return { result, replayed: false };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const again = await this.replay<T>(lookupHash, argumentsHash, sealing, since);
      if (again.found) return { result: again.result, replayed: true };
      throw error;
    }
  }

  /** Separate keys for finding and for sealing, both derived from the one server secret. */
  private derivedSecrets(): Promise<{ lookup: Buffer; sealing: Buffer }> {
    this.secrets ??= this.serverSecret().then(
      (secret) => ({
        lookup: Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "xta-idempotency-lookup", 32)),
        sealing: Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "xta-idempotency-sealing", 32)),
      }),
      (error: unknown) => {
        this.secrets = null; // a database that was away is asked again next time
        throw error;
      },
    );
    return this.secrets;
  }

  private async replay<T>(lookupHash: string, argumentsHash: string, sealing: Sealing, since: string): Promise<{ found: true; result: T } | { found: false }> {
    const rows: Array<{ arguments_hash: string; sealed_result: string | null }> = await this.dataSource.query(
      "SELECT arguments_hash, sealed_result FROM idempotent_results WHERE lookup_hash = ? AND created_at >= ?",
      [lookupHash, since],
    );
    const row = rows[0];
    if (!row?.sealed_result) return { found: false };
    if (row.arguments_hash !== argumentsHash) {
      throw new BadUserInputError("This idempotencyKey was already used with different arguments.", "idempotencyKey");
    }
    return { found: true, result: JSON.parse(unseal(row.sealed_result, sealing)) as T };
  }
}

interface Sealing {
  idempotencyKey: string;
  serverSecret: Buffer;
  /** User and operation: a sealed result opens only for the call that made it. */
  context: string;
}

function freshSince(now: Date): string {
  return toSqlDateTime(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS));
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Needs both the client's idempotencyKey and the server's secret. */
function sealingKey({ idempotencyKey, serverSecret, context }: Sealing, salt: Buffer): Buffer {
  const keyMaterial = createHmac("sha256", serverSecret).update(idempotencyKey, "utf8").digest();
  return Buffer.from(hkdfSync("sha256", keyMaterial, salt, `xta-idempotent-result|${context}`, 32));
}

function seal(plaintext: string, sealing: Sealing): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(sealing, salt), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([salt, iv, cipher.getAuthTag(), ciphertext]).toString("base64");
}

function unseal(sealed: string, sealing: Sealing): string {
  const bytes = Buffer.from(sealed, "base64");
  const salt = bytes.subarray(0, 16);
  const iv = bytes.subarray(16, 28);
  const tag = bytes.subarray(28, 44);
  const decipher = createDecipheriv("aes-256-gcm", sealingKey(sealing, salt), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(bytes.subarray(44)), decipher.final()]).toString("utf8");
}
