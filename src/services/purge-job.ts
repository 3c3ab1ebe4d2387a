import type { Logger } from "pino";
import type { IdempotencyService } from "./idempotency.service";
import type { KeyRetentionService, PurgeResult } from "./key-retention.service";
import type { SessionService } from "./session.service";

/** The first run comes this long after start (or after one interval, if shorter). */
export const FIRST_RUN_DELAY_MS = 5 * 60_000;

/**
 * Runs KeyRetentionService.purgeExpired every `intervalMs` inside the server process, the first
 * time a few minutes after start: a server restarted more often than the interval still purges.
 * Each run also deletes expired idempotent results (which have their own, shorter timer too).
 * The timer is unref'd (it never keeps the process alive), runs never overlap, and a failed
 * run is logged and retried at the next tick: the job never crashes the server.
 */
export class PurgeJob {
  private timer: NodeJS.Timeout | null = null;
  private firstRun: NodeJS.Timeout | null = null;
  private running: Promise<PurgeResult | null> | null = null;

  constructor(
    private readonly retention: Pick<KeyRetentionService, "purgeExpired">,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly idempotency?: Pick<IdempotencyService, "purgeExpired">,
    /** Ended login sessions go on the same run: past their maximum, or idle long enough. */
    private readonly sessions?: Pick<SessionService, "purgeExpired">,
  ) {}

  /** intervalMs 0 disables the job. */
  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.firstRun = setTimeout(() => void this.runOnce(), Math.min(this.intervalMs, FIRST_RUN_DELAY_MS));
    this.firstRun.unref();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.firstRun) clearTimeout(this.firstRun);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.firstRun = null;
    if (this.running) await this.running;
  }

  private async purgeSessions(): Promise<void> {
    if (!this.sessions) return;
    try {
      const purged = await this.sessions.purgeExpired();
      if (purged > 0) this.logger.info({ purged }, "purged ended login sessions");
    } catch (error) {
      this.logger.error({ err: error }, "ended-session purge failed; will retry at the next interval");
    }
  }

  /** One run; resolves null if it failed (already logged) or one was already in progress. */
  runOnce(now: Date = new Date()): Promise<PurgeResult | null> {
    if (this.running) return Promise.resolve(null);
    // One after the other: on SQLite both writes share one connection.
    this.running = this.retention
      .purgeExpired(now)
      .then(async (result) => {
        await this.idempotency?.purgeExpired(now);
        if (result.purged > 0) this.logger.info({ purged: result.purged, retentionDays: result.retentionDays }, "purged expired API keys");
        await this.purgeSessions();
        return result;
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error }, "expired-key purge failed; will retry at the next interval");
        return null;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
