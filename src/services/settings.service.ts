import type { DataSource, EntityManager } from "typeorm";
import { fromSqlBoolean } from "../db/data-source";
import { createPreparedRead, type PreparedRead, type Row } from "../db/prepared-read";
import { inTransaction } from "../db/transactions";
import { AuditAction, type AuditActor, SYSTEM_ACTOR } from "../entities/audit-event.entity";
import {
  ApiKeyExpiration,
  DEFAULT_EXPIRED_KEY_RETENTION_DAYS,
  ExternalToolSettings,
  MAX_EXPIRED_KEY_RETENTION_DAYS,
  SETTINGS_ROW_ID,
} from "../entities/external-tool-settings.entity";
import { BadUserInputError } from "../errors";
import type { AuditService } from "./audit.service";

type EditableSetting = "apiKeysEnabled" | "apiKeyExpiration" | "sessionKeysEnabled" | "expiredKeyRetentionDays";
export type SettingsChange = { [K in EditableSetting]?: ExternalToolSettings[K] | null };
const EDITABLE: EditableSetting[] = ["apiKeysEnabled", "apiKeyExpiration", "sessionKeysEnabled", "expiredKeyRetentionDays"];

export class SettingsService {
  private readonly readRow: PreparedRead;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {
    this.readRow = createPreparedRead(
      dataSource,
      "SELECT id, api_keys_enabled, api_key_expiration, session_keys_enabled, expired_key_retention_days FROM external_tool_settings WHERE id = ?",
    );
  }

  /**
   * Outside a transaction (every anonymous `externalToolSettings` query) a prepared statement:
   * through TypeORM's repository the read cost more CPU than the rest of the request. Inside a
   * transaction, its manager.
   */
  async get(manager?: EntityManager): Promise<ExternalToolSettings> {
    if (!manager) {
      const row = await this.readRow(SETTINGS_ROW_ID);
      if (row) return hydrateSettings(row);
    }
    manager ??= this.dataSource.manager;
    const settings = await manager.getRepository(ExternalToolSettings).findOneBy({ id: SETTINGS_ROW_ID });
    // The migration inserts the row; recreate the defaults if someone deleted it by hand.
    return settings ?? manager.getRepository(ExternalToolSettings).save(defaultSettings());
  }

  /** Changes only the given settings; records old and new values in the audit trail. */
  async update(change: SettingsChange, actor: AuditActor = SYSTEM_ACTOR): Promise<ExternalToolSettings> {
    const retention = change.expiredKeyRetentionDays;
    if (retention != null && (!Number.isInteger(retention) || retention < 0 || retention > MAX_EXPIRED_KEY_RETENTION_DAYS)) {
      throw new BadUserInputError(`expiredKeyRetentionDays must be between 0 and ${MAX_EXPIRED_KEY_RETENTION_DAYS}.`, "expiredKeyRetentionDays");
    }
    return inTransaction(this.dataSource, async (manager) => {
      const current = await this.get(manager);
      const changed = EDITABLE.filter((name) => change[name] !== undefined && change[name] !== null && change[name] !== current[name]);
      if (changed.length === 0) return current;
      const values = Object.fromEntries(changed.map((name) => [name, change[name]]));
      await manager.getRepository(ExternalToolSettings).update({ id: SETTINGS_ROW_ID }, values);
      await this.audit.record(
        {
          action: AuditAction.SETTINGS_CHANGED,
          actor,
          detail: changed.map((name) => `${name}: ${String(current[name])} -> ${String(change[name])}`).join("; "),
          details: Object.fromEntries(changed.map((name) => [name, { from: current[name], to: change[name]! }])),
        },
        manager,
      );
      return Object.assign(new ExternalToolSettings(), current, values);
    });
  }
}

function hydrateSettings(row: Row): ExternalToolSettings {
  return Object.assign(new ExternalToolSettings(), {
    id: Number(row.id),
    apiKeysEnabled: fromSqlBoolean(row.api_keys_enabled),
    apiKeyExpiration: String(row.api_key_expiration) as ApiKeyExpiration,
    sessionKeysEnabled: fromSqlBoolean(row.session_keys_enabled),
    expiredKeyRetentionDays: Number(row.expired_key_retention_days),
  });
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
