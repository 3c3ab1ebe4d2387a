import { ArgsType, Field } from "type-graphql";
import { ApiKeyFilter } from "./api-key-filter.input";

@ArgsType()
export class RevokeApiKeysWhereArgs {
  @Field(() => ApiKeyFilter)
  filter: ApiKeyFilter;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  dryRun?: boolean | null;
}
