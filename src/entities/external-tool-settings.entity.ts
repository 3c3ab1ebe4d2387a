import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Column, Entity, PrimaryColumn } from "typeorm";

export enum ApiKeyExpiration {
  NEVER = "NEVER",
  DAYS_7 = "DAYS_7",
  DAYS_30 = "DAYS_30",
  DAYS_90 = "DAYS_90",
  DAYS_180 = "DAYS_180",
  DAYS_365 = "DAYS_365",
}
registerEnumType(ApiKeyExpiration, { name: "ApiKeyExpiration" });

const EXPIRATION_DAYS: Record<ApiKeyExpiration, number | null> = {
  [ApiKeyExpiration.NEVER]: null,
  [ApiKeyExpiration.DAYS_7]: 7,
  [ApiKeyExpiration.DAYS_30]: 30,
  [ApiKeyExpiration.DAYS_90]: 90,
  [ApiKeyExpiration.DAYS_180]: 180,
  [ApiKeyExpiration.DAYS_365]: 365,
};

export function expiryFor(expiration: ApiKeyExpiration, from: Date): Date | null {
  const days = EXPIRATION_DAYS[expiration];
  return days === null ? null : new Date(from.getTime() + days * 24 * 3600_000);
}

export const DEFAULT_EXPIRED_KEY_RETENTION_DAYS = 30;
export const MAX_EXPIRED_KEY_RETENTION_DAYS = 3650;

/** The single row (id 1) of site-wide External Tool Access settings. */
@ObjectType({ description: "Site-wide settings of the External Tool Access feature." })
@Entity({ name: "external_tool_settings" })
export class ExternalToolSettings {
  @PrimaryColumn({ type: "integer" })
  id: number;

  @Field(() => Boolean, { description: "Whether users may generate new API keys. Existing unexpired keys keep working when this is off." })
  @Column({ name: "api_keys_enabled", type: "boolean", default: false })
  apiKeysEnabled: boolean;

  @Field(() => ApiKeyExpiration, { description: "Lifetime given to each newly generated key." })
  @Column({ name: "api_key_expiration", type: "varchar", length: 16, default: ApiKeyExpiration.NEVER })
  apiKeyExpiration: ApiKeyExpiration;

  @Field(() => Boolean, { description: "Whether users may generate session keys (bound to their login session)." })
  @Column({ name: "session_keys_enabled", type: "boolean", default: false })
  sessionKeysEnabled: boolean;

  @Field(() => Int, { description: "Days an expired key stays listed before the purge deletes it; 0 purges at once." })
  @Column({ name: "expired_key_retention_days", type: "integer", default: DEFAULT_EXPIRED_KEY_RETENTION_DAYS })
  expiredKeyRetentionDays: number;
}

export const SETTINGS_ROW_ID = 1;
