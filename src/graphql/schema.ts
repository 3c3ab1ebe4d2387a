import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "../auth/auth-checker";
import { ApiKeyConnectionResolver, ApiKeyResolver } from "../resolvers/api-key.resolver";
import { AuditEventResolver } from "../resolvers/audit-event.resolver";
import { ExternalToolSettingsResolver } from "../resolvers/external-tool-settings.resolver";
import { UserConnectionResolver, UserResolver } from "../resolvers/user.resolver";
import type { Services } from "../services";
import type { AuthGate } from "../auth/auth-gate";
import type { DeviceCookies } from "../auth/device-cookies";
import { SessionResolver } from "../resolvers/session.resolver";
import { paceLongLists } from "./paced-lists";

/**
 * Items of a list completed per event-loop turn (./paced-lists.ts): a few milliseconds of work
 * for the largest item the schema has (a key with its owner and every field), so other requests
 * wait at most about that long behind a page of 500; pages of up to 50 items, the default size of
 * every page, are not paced.
 */
const LIST_ITEMS_PER_TURN = 50;

const RESOLVERS = [ApiKeyResolver, ApiKeyConnectionResolver, UserResolver, UserConnectionResolver, ExternalToolSettingsResolver, AuditEventResolver, SessionResolver] as const;

/** What login needs beyond the services: the brute-force throttle of Basic passwords, and device cookies. */
export interface LoginDependencies {
  /** Also changeMyPassword's check of the current password. */
  gate: Pick<AuthGate, "authenticate" | "checkOwnPassword">;
  deviceCookies: Pick<DeviceCookies, "issue" | "verify" | "lifetimeMs">;
}

/** Resolvers get their services through the constructor: no global container to swap in tests. */
export async function createSchema(
  services: Pick<Services, "apiKeys" | "users" | "accounts" | "settings" | "audit" | "sessions">,
  logins: LoginDependencies,
): Promise<GraphQLSchema> {
  const instances = new Map<Function, object>([
    [ApiKeyResolver, new ApiKeyResolver(services.apiKeys)],
    [ApiKeyConnectionResolver, new ApiKeyConnectionResolver()],
    [UserResolver, new UserResolver(services.users, services.accounts, logins.gate)],
    [UserConnectionResolver, new UserConnectionResolver()],
    [ExternalToolSettingsResolver, new ExternalToolSettingsResolver(services.settings)],
    [AuditEventResolver, new AuditEventResolver(services.audit)],
    [SessionResolver, new SessionResolver(services.sessions, services.users, logins.gate, logins.deviceCookies, services.audit)],
  ]);
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    validate: false,
    container: { get: (someClass) => instances.get(someClass as Function) },
  });
  return paceLongLists(schema, LIST_ITEMS_PER_TURN);
}
