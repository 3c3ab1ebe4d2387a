import type { DataSource } from "typeorm";
import { ApiKeyExpiration, ExternalToolSettings, SETTINGS_ROW_ID } from "../entities/external-tool-settings.entity";

export type SettingsChange = {
  [K in "apiKeysEnabled" | "apiKeyExpiration" | "sessionKeysEnabled"]?: ExternalToolSettings[K] | null;
};

export class SettingsService {
  constructor(private readonly dataSource: DataSource) {}

  async get(): Promise<ExternalToolSettings> {
    const settings = await this.dataSource.getRepository(ExternalToolSettings).findOneBy({ id: SETTINGS_ROW_ID });
    // The migration inserts the row; recreate the defaults if someone deleted it by hand.
    return settings ?? this.dataSource.getRepository(ExternalToolSettings).save(defaultSettings());
  }

  async update(change: SettingsChange): Promise<ExternalToolSettings> {
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
  });
}
