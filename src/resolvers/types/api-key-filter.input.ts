import { Field, InputType, registerEnumType } from "type-graphql";
import { ApiKeyFilterInput, ApiKeyOrder } from "../../services/api-key.service";

registerEnumType(ApiKeyOrder, { name: "ApiKeyOrder" });

@InputType()
export class ApiKeyFilter implements ApiKeyFilterInput {
  @Field(() => String, { nullable: true, description: "Exact owner email (case-insensitive)." })
  ownerEmail?: string | null;

  @Field(() => String, { nullable: true, description: "Substring of the description (case-insensitive)." })
  descriptionContains?: string | null;

  @Field(() => Boolean, { nullable: true, description: "true: only expired keys; false: only unexpired keys; null: both." })
  expired?: boolean | null;

  @Field(() => Date, { nullable: true, description: "Never used, or last used before this instant." })
  unusedSince?: Date | null;

  @Field(() => Date, { nullable: true })
  createdBefore?: Date | null;
}
