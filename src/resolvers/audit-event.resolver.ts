import { Args, Authorized, Query, Resolver } from "type-graphql";
import { ADMIN } from "../auth/auth-checker";
import { AuditEvent } from "../entities/audit-event.entity";
import type { AuditService } from "../services/audit.service";
import { AuditEventConnection } from "./types/audit-event-connection.type";
import { AuditEventsArgs } from "./types/audit-events.args";

@Resolver(() => AuditEvent)
export class AuditEventResolver {
  constructor(private readonly audit: AuditService) {}

  @Authorized(ADMIN)
  @Query(() => AuditEventConnection, { description: "Admin." })
  async auditEvents(@Args(() => AuditEventsArgs) args: AuditEventsArgs): Promise<AuditEventConnection> {
    const page = await this.audit.list(args);
    return { nodes: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
  }
}
