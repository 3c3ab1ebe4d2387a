import { ArgsType, Field, ID, Int } from "type-graphql";

@ArgsType()
export class RotateApiKeyArgs {
  @Field(() => ID)
  id: string;

  @Field(() => Int, { nullable: true, defaultValue: 0 })
  overlapSeconds?: number | null;

  @Field(() => String, { nullable: true })
  idempotencyKey?: string | null;
}
