import { ArgsType, Field } from "type-graphql";

@ArgsType()
export class ChangeMyPasswordArgs {
  @Field(() => String)
  currentPassword: string;

  @Field(() => String)
  newPassword: string;
}
