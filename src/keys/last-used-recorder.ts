import type { DataSource } from "typeorm";
import type { Logger } from "pino";
import { toSqlDateTime } from "../db/data-source";
import { inTransaction } from "../db/transactions";
import { PeriodicFlush } from "../db/periodic-flush";

/** Keys per UPDATE statement of a flush (4 parameters each, far below SQLite's and MySQL's limits). */
const FLUSH_CHUNK = 250;

export type FlushListener = (seconds: number, written: number, ok: boolean) => void;

export interface LastUsedRecorderOptions {
  /** A key whose stored lastUsedAt is younger than this is not queued again. */
  minIntervalMs: number;
  flushIntervalMs: number;
  /** Bounds memory if the database stays away for long: newer keys wait for the next use. */
  maxPending?: number;
}

/**
 * Write-behind for ApiKey.lastUsedAt: authentication only notes the use in memory; a timer
 * writes the notes in one transaction. A request therefore never waits on a write, and a key
 * used a thousand times a minute costs one UPDATE a minute.
 */
export class LastUsedRecorder {
  private pending = new Map<number, Date>();
  private readonly flusher: PeriodicFlush;
  private readonly maxPending: number;
  private readonly flushListeners = new Set<FlushListener>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: LastUsedRecorderOptions,
    private readonly logger: Logger,
  ) {
    this.maxPending = options.maxPending ?? 100_000;
    this.flusher = new PeriodicFlush(() => this.writePending(), options.flushIntervalMs);
  }

  /** Told the duration of every flush that wrote something (the metrics histogram listens here). Returns an unsubscribe. */
  onFlush(listener: FlushListener): () => void {
    this.flushListeners.add(listener);
    return () => this.flushListeners.delete(listener);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Notes a use; returns the time queued to be written (the caller's copy of lastUsedAt is then
   * that time), or null when nothing was queued. A number `now` is made a Date only when queued.
   */
  record(keyId: number, storedLastUsedAt: Date | null, now: Date | number = Date.now()): Date | null {
    const nowMs = typeof now === "number" ? now : now.getTime();
    if (storedLastUsedAt && nowMs - storedLastUsedAt.getTime() < this.options.minIntervalMs) return null;
    if (this.pending.has(keyId) || this.pending.size >= this.maxPending) return null;
    const at = typeof now === "number" ? new Date(now) : now;
    this.pending.set(keyId, at);
    return at;
  }

  start(): void {
    this.flusher.start();
  }

  /** Stops the timer and writes whatever is pending (called on shutdown). */
  stop(): Promise<void> {
    return this.flusher.stop();
  }

  flush(): Promise<void> {
    return this.flusher.run();
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await this.write(batch);
  }

  private async write(batch: Map<number, Date>): Promise<void> {
    const started = process.hrtime.bigint();
    const observe = (ok: boolean) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      for (const listener of this.flushListeners) listener(seconds, batch.size, ok);
    };
    try {
      await inTransaction(this.dataSource, async (manager) => {
        const uses = [...batch];
        for (let start = 0; start < uses.length; start += FLUSH_CHUNK) {
          const chunk = uses.slice(start, start + FLUSH_CHUNK);
          const whens = chunk.map(() => "WHEN ? THEN ?").join(" ");
          const whenParams = chunk.flatMap(([keyId, usedAt]) => [keyId, toSqlDateTime(usedAt)]);
          // One statement per chunk, not per key: a statement through TypeORM costs far more CPU
          // than the row it changes (a flush of 1,000 keys one by one showed in the request rate).
          // Never move lastUsedAt backwards: another instance may have written a later use.
          await manager.query(
            `UPDATE api_keys SET last_used_at = CASE id ${whens} END
             WHERE id IN (${chunk.map(() => "?").join(", ")}) AND (last_used_at IS NULL OR last_used_at < CASE id ${whens} END)`,
            [...whenParams, ...chunk.map(([keyId]) => keyId), ...whenParams],
          );
        }
      });
      observe(true);
    } catch (error) {
      observe(false);
      for (const [keyId, usedAt] of batch) {
        if (!this.pending.has(keyId) && this.pending.size < this.maxPending) this.pending.set(keyId, usedAt);
      }
      this.logger.warn({ err: error, pending: this.pending.size }, "could not write lastUsedAt; will retry");
    }
  }
}
