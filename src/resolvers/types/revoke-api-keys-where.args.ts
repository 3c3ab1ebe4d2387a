import { ArgsType, Field } from "type-graphql";
import { ApiKeyFilter } from "./api-key-filter.input";

@ArgsType()
export class RevokeApiKeysWhereArgs {
  @Field(() => ApiKeyFilter)
  filter: ApiKeyFilter;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  dryRun?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: "Required (true) for a real run whose filter is empty, which revokes every key; ignored otherwise.",
  })
  all?: boolean | null;
}
