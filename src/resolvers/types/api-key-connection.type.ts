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

  @Field(() => Int)
  totalCount: number;

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  /** Runs the COUNT only when totalCount is selected. */
  countTotal: () => Promise<number>;
}
