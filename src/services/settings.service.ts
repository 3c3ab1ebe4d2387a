import type { DataSource } from "typeorm";
import {
  ApiKeyExpiration,
  DEFAULT_EXPIRED_KEY_RETENTION_DAYS,
  ExternalToolSettings,
  MAX_EXPIRED_KEY_RETENTION_DAYS,
  SETTINGS_ROW_ID,
} from "../entities/external-tool-settings.entity";
import { BadUserInputError } from "../errors";

export type SettingsChange = {
  [K in "apiKeysEnabled" | "apiKeyExpiration" | "sessionKeysEnabled" | "expiredKeyRetentionDays"]?: ExternalToolSettings[K] | null;
};

export class SettingsService {
  constructor(private readonly dataSource: DataSource) {}

  async get(): Promise<ExternalToolSettings> {
    const settings = await this.dataSource.getRepository(ExternalToolSettings).findOneBy({ id: SETTINGS_ROW_ID });
    // The migration inserts the row; recreate the defaults if someone deleted it by hand.
    return settings ?? this.dataSource.getRepository(ExternalToolSettings).save(defaultSettings());
  }

  async update(change: SettingsChange): Promise<ExternalToolSettings> {
    const retention = change.expiredKeyRetentionDays;
    if (retention != null && (!Number.isInteger(retention) || retention < 0 || retention > MAX_EXPIRED_KEY_RETENTION_DAYS)) {
      throw new BadUserInputError(`expiredKeyRetentionDays must be between 0 and ${MAX_EXPIRED_KEY_RETENTION_DAYS}.`, "expiredKeyRetentionDays");
    }
    const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined && value !== null));
    const current = await this.get();
    if (Object.keys(defined).length > 0) {
      await this.dataSource.getRepository(ExternalToolSettings).update({ id: SETTINGS_ROW_ID }, defined);
    }
    return { ...current, ...defined } as ExternalToolSettings;
  }
}

function defaultSettings(): ExternalToolSettings {
  return Object.assign(new ExternalToolSettings(), {
    id: SETTINGS_ROW_ID,
    apiKeysEnabled: false,
    apiKeyExpiration: ApiKeyExpiration.NEVER,
    sessionKeysEnabled: false,
    expiredKeyRetentionDays: DEFAULT_EXPIRED_KEY_RETENTION_DAYS,
  });
}
