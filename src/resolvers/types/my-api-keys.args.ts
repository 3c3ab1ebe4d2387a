import { ArgsType, Field, Int } from "type-graphql";
import { DEFAULT_PAGE_SIZE } from "../../services/api-key.service";

@ArgsType()
export class MyApiKeysArgs {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: "At most 500." })
  first?: number | null;

  @Field(() => String, { nullable: true, description: "The endCursor of the previous page." })
  after?: string | null;
}
