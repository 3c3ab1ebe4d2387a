import { Field, InputType, registerEnumType } from "type-graphql";
import { ApiKeyFilterInput, ApiKeyOrder } from "../../services/api-key.service";

registerEnumType(ApiKeyOrder, {
  name: "ApiKeyOrder",
  valuesConfig: {
    CREATED_AT_DESC: { description: "Newest first (ties: higher id first)." },
    CREATED_AT_ASC: { description: "Oldest first (ties: lower id first)." },
    LAST_USED_AT_DESC: { description: "Most recently used first; keys never used last (by id, descending)." },
    EXPIRES_AT_ASC: { description: "Soonest expiry first; keys that never expire last (by id)." },
  },
});

@InputType()
export class ApiKeyFilter implements ApiKeyFilterInput {
  @Field(() => String, { nullable: true, description: "Exact owner email (case-insensitive)." })
  ownerEmail?: string | null;

  @Field(() => String, { nullable: true, description: "Substring of the description (case-insensitive). No index serves it: a page examines a bounded number of keys and may hold fewer than `first` (see apiKeys)." })
  descriptionContains?: string | null;

  @Field(() => Boolean, { nullable: true, description: "true: only expired keys; false: only unexpired keys; null: both." })
  expired?: boolean | null;

  @Field(() => Date, { nullable: true, description: "Never used, or last used before this instant." })
  unusedSince?: Date | null;

  @Field(() => Date, { nullable: true })
  createdBefore?: Date | null;
}
