import type { DataSource } from "typeorm";
import { toSqlDateTime } from "../db/data-source";
import { inTransaction } from "../db/transactions";
import { AuditAction, type AuditActor, SYSTEM_ACTOR } from "../entities/audit-event.entity";
import type { CountCache } from "./count-cache";
import { type AuditService, describeIds, firstIds } from "./audit.service";
import type { SettingsService } from "./settings.service";

const DAY_MS = 24 * 3600_000;
/** The audit event lists at most this many ids (the count is always exact). */
export const PURGE_BATCH_SIZE = 500;

export interface PurgeResult {
  /** How many keys were deleted. */
  purged: number;
  /** Their ids, ascending. */
  ids: number[];
  /** Keys that expired at or before this instant were purgeable. */
  cutoff: Date;
  retentionDays: number;
}

export interface PurgeOptions {
  /** Rows deleted per statement (and per transaction); bounds lock time on a busy database. */
  batchSize?: number;
  /** Called after each batch with the running total; `total` is the count found at the start. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Expired keys stay listed (flagged expired) for `expiredKeyRetentionDays`, so an owner can
 * still see which key stopped working; after that this service deletes them.
 */
export class KeyRetentionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: SettingsService,
    private readonly audit: AuditService,
    /** The key list's count cache, cleared when a purge deletes keys. */
    private readonly counts?: CountCache,
  ) {}

  /** The instant before which (inclusive) an expiry makes a key purgeable. */
  async cutoff(now: Date = new Date()): Promise<{ cutoff: Date; retentionDays: number }> {
    const { expiredKeyRetentionDays: retentionDays } = await this.settings.get();
    return { cutoff: new Date(now.getTime() - retentionDays * DAY_MS), retentionDays };
  }

  /** How many keys a purge at `now` would delete. */
  async countPurgeable(now: Date = new Date()): Promise<number> {
    const { cutoff } = await this.cutoff(now);
    const [row] = await this.dataSource.query("SELECT COUNT(*) AS total FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= ?", [toSqlDateTime(cutoff)]);
    return Number(row.total);
  }

  /**
   * Deletes every key whose expiry is older than now − retention, in batches of bounded size,
   * each in its own short transaction. The one entry point for the scheduled job and the CLI.
   * Every run writes one EXPIRED_KEYS_PURGED audit event (count and ids), so the trail shows
   * the job ran even when it found nothing.
   */
  async purgeExpired(now: Date = new Date(), options: PurgeOptions = {}, actor: AuditActor = SYSTEM_ACTOR): Promise<PurgeResult> {
    const batchSize = options.batchSize ?? PURGE_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be a positive integer");
    const { cutoff, retentionDays } = await this.cutoff(now);
    const at = toSqlDateTime(cutoff);
    const total = options.onProgress ? await this.countPurgeable(now) : 0;
    const ids: number[] = [];
    let lastId = 0;
    for (;;) {
      // inTransaction: on SQLite a transaction of its own beside a request's would nest into it.
      const deleted = await inTransaction(this.dataSource, async (manager) => {
        // Keyset over id so a key that cannot be deleted (or reappears) never loops forever.
        const rows: Array<{ id: unknown }> = await manager.query(
          `SELECT id FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= ? AND id > ? ORDER BY id LIMIT ${batchSize}`,
          [at, lastId],
        );
        const batch = rows.map((row) => Number(row.id));
        if (batch.length === 0) return { batch, affected: [] as number[] };
        const placeholders = batch.map(() => "?").join(", ");
        // Re-check the expiry: a key rotated or changed meanwhile is left alone.
        await manager.query(`DELETE FROM api_keys WHERE id IN (${placeholders}) AND expires_at IS NOT NULL AND expires_at <= ?`, [...batch, at]);
        const kept: Array<{ id: unknown }> = await manager.query(`SELECT id FROM api_keys WHERE id IN (${placeholders})`, batch);
        const keptIds = new Set(kept.map((row) => Number(row.id)));
        return { batch, affected: batch.filter((id) => !keptIds.has(id)) };
      });
      if (deleted.batch.length === 0) break;
      ids.push(...deleted.affected);
      lastId = deleted.batch[deleted.batch.length - 1];
      options.onProgress?.(ids.length, Math.max(total, ids.length));
      if (deleted.batch.length < batchSize) break;
    }
    await this.audit.record({
      action: AuditAction.EXPIRED_KEYS_PURGED,
      actor,
      detail: `purged ${ids.length} key(s) expired at or before ${cutoff.toISOString()} (retention ${retentionDays} days)${ids.length ? `: ids ${describeIds(ids)}` : ""}`,
      details: { count: ids.length, expiredAtOrBefore: cutoff.toISOString(), retentionDays, keyIds: firstIds(ids) },
    });
    if (ids.length) this.counts?.clear();
    return { purged: ids.length, ids, cutoff, retentionDays };
  }
}
