import { Field, InputType } from "type-graphql";
import { ApiKeyExpiration } from "../../entities/external-tool-settings.entity";

@InputType()
export class ExternalToolSettingsInput {
  @Field(() => Boolean, { nullable: true })
  apiKeysEnabled?: boolean | null;

  @Field(() => ApiKeyExpiration, { nullable: true })
  apiKeyExpiration?: ApiKeyExpiration | null;

  @Field(() => Boolean, { nullable: true })
  sessionKeysEnabled?: boolean | null;
}
