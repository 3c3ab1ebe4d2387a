import { ArgsType, Field, Int } from "type-graphql";
import { ApiKeyOrder } from "../../services/api-key.service";
import { ApiKeyFilter } from "./api-key-filter.input";

@ArgsType()
export class ApiKeysArgs {
  @Field(() => ApiKeyFilter, { nullable: true })
  filter?: ApiKeyFilter | null;

  @Field(() => ApiKeyOrder, { nullable: true, defaultValue: ApiKeyOrder.CREATED_AT_DESC })
  orderBy?: ApiKeyOrder | null;

  @Field(() => Int, { nullable: true, defaultValue: 50 })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}
