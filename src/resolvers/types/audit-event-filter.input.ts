import { Field, ID, InputType } from "type-graphql";
import type { AuditEventFilterInput } from "../../services/audit.service";

@InputType()
export class AuditEventFilter implements AuditEventFilterInput {
  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => String, { nullable: true })
  actorEmail?: string | null;

  @Field(() => ID, { nullable: true })
  keyId?: string | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}
