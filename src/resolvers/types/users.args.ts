import { ArgsType, Field, InputType, Int } from "type-graphql";
import type { UserFilterInput } from "../../services/account.service";

@InputType()
export class UserFilter implements UserFilterInput {
  @Field(() => String, { nullable: true, description: "Substring of the email (case-insensitive)." })
  emailContains?: string | null;

  @Field(() => Boolean, { nullable: true })
  active?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  isAdmin?: boolean | null;
}

@ArgsType()
export class UsersArgs {
  @Field(() => UserFilter, { nullable: true })
  filter?: UserFilter | null;

  @Field(() => Int, { nullable: true, defaultValue: 50 })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}
