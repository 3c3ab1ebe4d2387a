import type { DataSource } from "typeorm";
import type { Logger } from "pino";
import { PasswordHasher } from "./password-hasher";
import { KeyTags } from "../keys/key-tags";
import type { Config } from "../config";
import { AccountService, type SessionStore } from "./account.service";
import { ApiKeyService } from "./api-key.service";
import { AuditService } from "./audit.service";
import { IdempotencyService } from "./idempotency.service";
import { KeyRetentionService } from "./key-retention.service";
import { LastUsedRecorder } from "../keys/last-used-recorder";
import { PurgeJob } from "./purge-job";
import { RevocationEpoch } from "../keys/revocation-epoch";
import { SettingsService } from "./settings.service";
import { UserService } from "./user.service";
import { sessionActivityIntervalMs } from "../config/sessions";
import { SessionService } from "./session.service";

export interface Services {
  audit: AuditService;
  settings: SettingsService;
  users: UserService;
  /** The users list, password changes and resets, user deletion. */
  accounts: AccountService;
  apiKeys: ApiKeyService;
  lastUsed: LastUsedRecorder;
  keyRetention: KeyRetentionService;
  /** Stored results of idempotent key mutations; the server purges the expired ones on a timer. */
  idempotency: IdempotencyService;
  /** Revocation generation and the key cache it guards (the server polls; every process bumps). */
  revocations: RevocationEpoch;
  /** The tag secret every issued key carries, and the in-memory check of presented keys against it. */
  keyTags: KeyTags;
  /** Hashes and checks passwords at the configured bcrypt cost. */
  passwords: PasswordHasher;
  /** Login sessions: start, end, list, session keys. */
  sessions: SessionService;
  /** Write-behind of sessions.last_seen_at (idle-time refresh), as lastUsed is for keys. */
  sessionActivity: LastUsedRecorder;
  /**
   * What time it is for login sessions (their start, expiry and purge) and for the app built on
   * these services (its session checks and brute-force windows): one clock, so they agree.
   */
  clock: () => number;
  /**
   * Starts the background jobs a serving process runs: lastUsedAt write-behind, the audit trail's
   * failure counter, the revocation poll and the expired-key purge. Loads the tag secret first,
   * so a database without it (migrations not run) fails here, not on the first request.
   */
  start(): Promise<void>;
  /** Stops the jobs, each after a last run (pending lastUsedAt and failure counts are written). */
  stop(): Promise<void>;
}

export function createServices(
  dataSource: DataSource,
  config: Config,
  logger: Logger,
  options: {
    bcryptCost?: number;
    /** Login sessions, ended by password changes and user deletion. */
    sessionStores?: SessionStore[];
    /** Services.clock; default Date.now (tests move it by hand). */
    clock?: () => number;
  } = {},
): Services {
  const audit = new AuditService(dataSource, logger);
  const settings = new SettingsService(dataSource, audit);
  const revocations = new RevocationEpoch(dataSource, { windowMs: config.keyCacheWindowMs, maxEntries: config.keyCacheMaxEntries }, logger);
  const keyTags = new KeyTags(dataSource, (error) => logger.warn({ err: error }, "could not check for untagged keys; untagged keys are still looked up"));
  const passwords = new PasswordHasher(options.bcryptCost ?? config.bcryptCost);
  const idempotency = new IdempotencyService(dataSource, () => keyTags.load(), (error) => logger.warn({ err: error }, "could not purge expired idempotent results; will retry"));
  const apiKeys = new ApiKeyService(dataSource, settings, audit, idempotency, revocations, keyTags, config.keyCaps);
  const clock = options.clock ?? Date.now;
  const sessions = new SessionService(dataSource, keyTags, revocations, audit, settings, config.sessions, clock);
  const sessionActivity = new LastUsedRecorder(
    dataSource,
    { minIntervalMs: sessionActivityIntervalMs(config.sessions), flushIntervalMs: config.lastUsedFlushIntervalMs, target: { table: "sessions", column: "last_seen_at" } },
    logger,
  );
  const lastUsed = new LastUsedRecorder(dataSource, { minIntervalMs: config.lastUsedMinIntervalMs, flushIntervalMs: config.lastUsedFlushIntervalMs }, logger);
  const keyRetention = new KeyRetentionService(dataSource, settings, audit, apiKeys.counts);
  const purgeJob = new PurgeJob(keyRetention, config.purgeIntervalMs, logger, idempotency, sessions);
  // Password changes, resets and user deletion end the user's login sessions in their own transaction.
  const sessionStore: SessionStore = { endSessionsOf: (manager, userId, keep) => sessions.endAllForUser(userId, { manager, except: keep ?? undefined }) };
  let started = false;
  return {
    audit,
    settings,
    users: new UserService(dataSource, audit, revocations, passwords, sessions),
    accounts: new AccountService(dataSource, audit, revocations, apiKeys.counts, [sessionStore, ...(options.sessionStores ?? [])], passwords),
    apiKeys,
    lastUsed,
    keyRetention,
    idempotency,
    revocations,
    keyTags,
    passwords,
    sessions,
    sessionActivity,
    clock,
    async start() {
      await keyTags.load();
      started = true;
      lastUsed.start();
      sessionActivity.start();
      audit.start();
      revocations.start();
      idempotency.start();
      purgeJob.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      await purgeJob.stop();
      idempotency.stop();
      await lastUsed.stop();
      await sessionActivity.stop();
      await audit.stop();
      await revocations.stop();
    },
  };
}
