import { Field, ObjectType } from "type-graphql";
import { AuditEvent } from "../../entities/audit-event.entity";
import { PageInfo } from "./api-key-connection.type";

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEvent])
  nodes: AuditEvent[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}
