import { Field, Int, ObjectType } from "type-graphql";
import { User } from "../../entities/user.entity";
import { PageInfo } from "./api-key-connection.type";

@ObjectType()
export class UserConnection {
  @Field(() => [User])
  nodes: User[];

  @Field(() => Int)
  totalCount: number;

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  /** Runs the COUNT only when totalCount is selected. */
  countTotal: () => Promise<number>;
}
