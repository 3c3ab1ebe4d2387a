import { Field, Int, ObjectType } from "type-graphql";
import { ApiKey } from "../../entities/api-key.entity";

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

@ObjectType()
export class ApiKeyConnection {
  @Field(() => [ApiKey])
  nodes: ApiKey[];

  @Field(() => Int, {
    description:
      "Keys matching the filter, counted once and then kept: exact at once after key changes made through this server; changes made through another server or the admin CLI show within 30 seconds.",
  })
  totalCount: number;

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  /** Runs the COUNT only when totalCount is selected. */
  countTotal: () => Promise<number>;
}
