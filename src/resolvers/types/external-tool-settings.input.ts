import { Field, InputType, Int } from "type-graphql";
import { ApiKeyExpiration } from "../../entities/external-tool-settings.entity";

@InputType()
export class ExternalToolSettingsInput {
  @Field(() => Boolean, { nullable: true })
  apiKeysEnabled?: boolean | null;

  @Field(() => ApiKeyExpiration, { nullable: true })
  apiKeyExpiration?: ApiKeyExpiration | null;

  @Field(() => Boolean, { nullable: true })
  sessionKeysEnabled?: boolean | null;

  @Field(() => Int, { nullable: true, description: "0 to 3650." })
  expiredKeyRetentionDays?: number | null;
}
