import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "../auth/auth-checker";
import { ApiKeyConnectionResolver, ApiKeyResolver } from "../resolvers/api-key.resolver";
import { AuditEventResolver } from "../resolvers/audit-event.resolver";
import { ExternalToolSettingsResolver } from "../resolvers/external-tool-settings.resolver";
import { UserResolver } from "../resolvers/user.resolver";
import type { Services } from "../services";

const RESOLVERS = [ApiKeyResolver, ApiKeyConnectionResolver, UserResolver, ExternalToolSettingsResolver, AuditEventResolver] as const;

/** Resolvers get their services through the constructor: no global container to swap in tests. */
export async function createSchema(services: Pick<Services, "apiKeys" | "users" | "settings" | "audit">): Promise<GraphQLSchema> {
  const instances = new Map<Function, object>([
    [ApiKeyResolver, new ApiKeyResolver(services.apiKeys)],
    [ApiKeyConnectionResolver, new ApiKeyConnectionResolver()],
    [UserResolver, new UserResolver(services.users)],
    [ExternalToolSettingsResolver, new ExternalToolSettingsResolver(services.settings)],
    [AuditEventResolver, new AuditEventResolver(services.audit)],
  ]);
  return buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    validate: false,
    container: { get: (someClass) => instances.get(someClass as Function) },
  });
}
