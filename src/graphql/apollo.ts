import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { GraphQLFormattedError, GraphQLSchema } from "graphql";
import type { Logger } from "pino";
import type { Context } from "../auth/context.type";
import { isDatabaseUnavailable } from "../db/database-faults";
import { INTERNAL_ERROR_MESSAGE, PUBLIC_ERROR_CODES, SERVICE_UNAVAILABLE_MESSAGE } from "../errors";
import { type GraphQLLimits, withoutFieldSuggestions } from "./limits";

export interface ApolloOptions {
  schema: GraphQLSchema;
  limits: GraphQLLimits;
  /** Introspection and the landing page. */
  introspection: boolean;
  logger: Logger;
}

/** The started Apollo instance: no request plugins, masked errors, the GraphQL limits. */
export async function createApollo({ schema, limits, introspection, logger }: ApolloOptions): Promise<ApolloServer<Context>> {
  const apollo = new ApolloServer<Context>({
    schema,
    introspection,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // main.ts owns SIGTERM/SIGINT (stop accepting, drain, flush lastUsedAt, close the pool, exit 0).
    // Apollo's own handlers raced it and re-raised the signal: shutdown sometimes hung in apollo.stop().
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    formatError: (formatted, error) => withoutFieldSuggestions(maskError(formatted, error, logger)),
    // No @cacheControl hints in this schema: Apollo's default cache-control plugin would only wrap
    // every field resolver for nothing. Not a federation subgraph: the default inline-trace plugin
    // would only run an async no-op on every request.
    plugins: [ApolloServerPluginCacheControlDisabled(), ApolloServerPluginInlineTraceDisabled(), ...(introspection ? [] : [ApolloServerPluginLandingPageDisabled()])],
  });
  await apollo.start();
  return apollo;
}

const INVALID_VARIABLE = /^Variable "\$([^"]+)" got invalid value /;

/**
 * What the client may see: our own codes and GraphQL's request errors pass; anything else
 * (a driver error, a bug) becomes a bare INTERNAL_SERVER_ERROR and is logged here in full.
 */
export function maskError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const code = String(formatted.extensions?.code ?? "");
  if (INVALID_VARIABLE.test(formatted.message)) {
    // graphql-js echoes the whole submitted value, which may be a password: keep only the reason.
    const name = INVALID_VARIABLE.exec(formatted.message)![1];
    const inner = (error as { originalError?: { message?: string } })?.originalError?.message;
    return { ...formatted, message: `Variable "$${name}" got an invalid value${inner ? `: ${inner}` : "."}` };
  }
  if (PUBLIC_ERROR_CODES.has(code)) return formatted;
  if (isDatabaseUnavailable(error)) {
    logger.error({ err: error }, "database unavailable during GraphQL execution");
    return { message: SERVICE_UNAVAILABLE_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: "SERVICE_UNAVAILABLE" } };
  }
  logger.error({ err: error }, "unexpected error in GraphQL execution");
  return { message: INTERNAL_ERROR_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
}
