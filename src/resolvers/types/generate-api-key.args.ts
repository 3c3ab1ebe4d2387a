import { ArgsType, Field } from "type-graphql";

@ArgsType()
export class GenerateApiKeyArgs {
  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  readOnly?: boolean | null;
}
