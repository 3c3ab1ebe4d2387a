import type { DataSource } from "typeorm";
import type { Logger } from "pino";
import { KeyTags } from "../auth/key-tags";
import { PasswordHasher } from "../auth/password-hasher";
import type { Config } from "../config";
import { ApiKeyService } from "./api-key.service";
import { AuditService } from "./audit.service";
import { IdempotencyService } from "./idempotency.service";
import { KeyRetentionService } from "./key-retention.service";
import { LastUsedRecorder } from "./last-used-recorder";
import { RevocationEpoch } from "./revocation-epoch";
import { SettingsService } from "./settings.service";
import { UserService } from "./user.service";

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
  /** Hashes and checks passwords at the configured bcrypt cost. */
  passwords: PasswordHasher;
}

export function createServices(dataSource: DataSource, config: Config, logger: Logger, options: { /** Overrides BCRYPT_COST (tests use the lowest). */ bcryptCost?: number } = {}): Services {
  const audit = new AuditService(dataSource, logger);
  const settings = new SettingsService(dataSource, audit);
  const revocations = new RevocationEpoch(dataSource, { windowMs: config.keyCacheWindowMs, maxEntries: config.keyCacheMaxEntries }, logger);
  const keyTags = new KeyTags(dataSource, (error) => logger.warn({ err: error }, "could not check for untagged keys; untagged keys are still looked up"));
  const passwords = new PasswordHasher(options.bcryptCost ?? config.bcryptCost);
  const apiKeys = new ApiKeyService(dataSource, settings, audit, new IdempotencyService(dataSource), revocations, keyTags, config.keyCaps);
  return {
    audit,
    settings,
    users: new UserService(dataSource, audit, revocations, passwords),
    apiKeys,
    lastUsed: new LastUsedRecorder(dataSource, { minIntervalMs: config.lastUsedMinIntervalMs, flushIntervalMs: config.lastUsedFlushIntervalMs }, logger),
    keyRetention: new KeyRetentionService(dataSource, settings, audit, apiKeys.counts),
    revocations,
    keyTags,
    passwords,
  };
}
