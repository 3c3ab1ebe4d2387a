import { ArgsType, Field } from "type-graphql";

@ArgsType()
export class GenerateApiKeyArgs {
  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  readOnly?: boolean | null;

  @Field(() => String, { nullable: true, description: "Retrying with the same value within 10 minutes returns the first result instead of a second key." })
  idempotencyKey?: string | null;
}
