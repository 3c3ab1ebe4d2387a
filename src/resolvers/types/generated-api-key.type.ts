import { Field, ObjectType } from "type-graphql";
import { ApiKey } from "../../entities/api-key.entity";

@ObjectType({ description: "Returned by generateApiKey: the only place the secret ever appears." })
export class GeneratedApiKey {
  @Field(() => String)
  key: string;

  @Field(() => ApiKey)
  apiKey: ApiKey;
}
