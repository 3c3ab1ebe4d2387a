import type { DataSource } from "typeorm";
import type { Logger } from "pino";
import { KeyTags } from "../keys/key-tags";
import type { Config } from "../config";
import { ApiKeyService } from "./api-key.service";
import { AuditService } from "./audit.service";
import { IdempotencyService } from "./idempotency.service";
import { KeyRetentionService } from "./key-retention.service";
import { LastUsedRecorder } from "../keys/last-used-recorder";
import { PurgeJob } from "./purge-job";
import { RevocationEpoch } from "../keys/revocation-epoch";
import { SettingsService } from "./settings.service";
import { BCRYPT_COST, UserService } from "./user.service";

export interface Services {
  audit: AuditService;
  settings: SettingsService;
  users: UserService;
  apiKeys: ApiKeyService;
  lastUsed: LastUsedRecorder;
  keyRetention: KeyRetentionService;
  /** Revocation generation and the key cache it guards (the server polls; every process bumps). */
  revocations: RevocationEpoch;
  /** The tag secret every issued key carries, and the in-memory check of presented keys against it. */
  keyTags: KeyTags;
  /**
   * Starts the background jobs a serving process runs: lastUsedAt write-behind, the audit trail's
   * failure counter, the revocation poll and the expired-key purge. Loads the tag secret first,
   * so a database without it (migrations not run) fails here, not on the first request.
   */
  start(): Promise<void>;
  /** Stops the jobs, each after a last run (pending lastUsedAt and failure counts are written). */
  stop(): Promise<void>;
}

export function createServices(dataSource: DataSource, config: Config, logger: Logger, options: { bcryptCost?: number } = {}): Services {
  const audit = new AuditService(dataSource, logger);
  const settings = new SettingsService(dataSource, audit);
  const revocations = new RevocationEpoch(dataSource, { windowMs: config.keyCacheWindowMs, maxEntries: config.keyCacheMaxEntries }, logger);
  const keyTags = new KeyTags(dataSource, (error) => logger.warn({ err: error }, "could not check for untagged keys; untagged keys are still looked up"));
  const apiKeys = new ApiKeyService(dataSource, settings, audit, new IdempotencyService(dataSource), revocations, keyTags);
  const lastUsed = new LastUsedRecorder(dataSource, { minIntervalMs: config.lastUsedMinIntervalMs, flushIntervalMs: config.lastUsedFlushIntervalMs }, logger);
  const keyRetention = new KeyRetentionService(dataSource, settings, audit, apiKeys.counts);
  const purgeJob = new PurgeJob(keyRetention, config.purgeIntervalMs, logger);
  let started = false;
  return {
    audit,
    settings,
    users: new UserService(dataSource, audit, revocations, options.bcryptCost ?? BCRYPT_COST),
    apiKeys,
    lastUsed,
    keyRetention,
    revocations,
    keyTags,
    async start() {
      await keyTags.load();
      started = true;
      lastUsed.start();
      audit.start();
      revocations.start();
      purgeJob.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      await purgeJob.stop();
      await lastUsed.stop();
      await audit.stop();
      await revocations.stop();
    },
  };
}
