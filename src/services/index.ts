import type { DataSource } from "typeorm";
import type { Logger } from "pino";
import type { Config } from "../config";
import { ApiKeyService } from "./api-key.service";
import { KeyRetentionService } from "./key-retention.service";
import { LastUsedRecorder } from "./last-used-recorder";
import { SettingsService } from "./settings.service";
import { BCRYPT_COST, UserService } from "./user.service";

export interface Services {
  settings: SettingsService;
  users: UserService;
  apiKeys: ApiKeyService;
  lastUsed: LastUsedRecorder;
  keyRetention: KeyRetentionService;
}

export function createServices(dataSource: DataSource, config: Config, logger: Logger, options: { bcryptCost?: number } = {}): Services {
  const settings = new SettingsService(dataSource);
  return {
    settings,
    users: new UserService(dataSource, options.bcryptCost ?? BCRYPT_COST),
    apiKeys: new ApiKeyService(dataSource, settings),
    lastUsed: new LastUsedRecorder(dataSource, { minIntervalMs: config.lastUsedMinIntervalMs, flushIntervalMs: config.lastUsedFlushIntervalMs }, logger),
    keyRetention: new KeyRetentionService(dataSource, settings),
  };
}
