import type http from "node:http";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { AuthGate } from "../auth/auth-gate";
import { AuthThrottle } from "../auth/auth-throttle";
import { Authenticator } from "../auth/authenticator";
import { PasswordQueue } from "../auth/password-queue";
import { SharedAuthThrottle } from "../auth/shared-throttle";
import { DeviceCookies } from "../auth/device-cookies";
import { SessionAuthenticator } from "../auth/sessions/session-authenticator";
import { SessionCache } from "../auth/sessions/session-cache";
import type { Config } from "../config";
import { createApollo } from "../graphql/apollo";
import { graphqlLimits } from "../graphql/limits";
import { createSchema } from "../graphql/schema";
import { Metrics } from "../observability/metrics";
import type { Services } from "../services";
import { createAccessLog } from "./access-log";
import { createGraphQLHandler } from "./graphql-handler";
import { createReadinessCheck, handleHealth } from "./health";
import { createMetricsRoute } from "./metrics-route";
import { OperationNames } from "./operation-names";
import { baseHeaders } from "./responses";
import { createRouter } from "./router";
import { createHttpServer } from "./server";
import { createStaticPages } from "./static-pages";

export interface AppDependencies {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  /** Started by their owner (the runtime): the app only uses them. */
  services: Services;
  /** Defaults to a fresh per-app Registry; pass one to share or inspect it. */
  metrics?: Metrics;
  /** The built pages' folder; default config.webDir, else dist/web under the package root. */
  webDir?: string;
}

export interface App {
  httpServer: http.Server;
  metrics: Metrics;
  /** Resolves with the bound port (pass port 0 for any free one). */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stops accepting and lets in-flight requests finish; the services and the DataSource stay up. */
  stop(): Promise<void>;
}

/** The HTTP face of the services: authentication, GraphQL, health and metrics routes, the web pages, one node:http server. */
export async function createApp({ config, dataSource, logger, services, metrics: injected, webDir }: AppDependencies): Promise<App> {
  const { security } = config;
  const metrics = injected ?? new Metrics({ countActiveKeys: () => services.apiKeys.countActive(), lastUsed: services.lastUsed, logger });
  services.passwords.prepare();
  const sessionCache = new SessionCache(services.revocations.cache, config.keyCacheMaxEntries);
  const sessions = new SessionAuthenticator(dataSource, sessionCache, services.keyTags, services.sessionActivity, { idleTimeoutMs: config.sessions.idleTimeoutMs }, services.clock);
  const authenticator = new Authenticator(
    dataSource,
    services.lastUsed,
    services.apiKeys,
    services.revocations.cache,
    services.keyTags,
    { hasher: services.passwords, users: services.users, logger },
    sessions,
  );
  // Failed authentications per client IP and per account: in memory, per instance, and for
  // password attempts also in the database, shared by every instance (docs/security.md).
  // changeMyPassword's current password goes through the gate too, like a login.
  const throttle = new AuthThrottle({ limit: security.authFailureLimit, windowMs: security.authFailureWindowMs, maxEntries: security.authThrottleMaxEntries, now: services.clock });
  const gate = new AuthGate({
    authenticator,
    throttle,
    shared: new SharedAuthThrottle(dataSource, { limit: security.authFailureLimit, windowMs: security.authFailureWindowMs, now: services.clock }),
    queue: new PasswordQueue(security.passwordQueue),
  });
  const limits = graphqlLimits(security.graphql);
  const deviceCookies = new DeviceCookies(dataSource, config.sessions.deviceCookieLifetimeMs);
  await deviceCookies.load();
  const apollo = await createApollo({ schema: await createSchema(services, { gate, deviceCookies }), limits, introspection: config.introspection, logger });
  const graphql = createGraphQLHandler({
    apollo,
    gate,
    cookiePolicy: { secure: config.sessions.cookieSecure, trustProxy: security.trustProxy, corsOrigins: security.corsOrigins },
    operations: new OperationNames(limits.parseOptions),
    metrics,
    audit: services.audit,
    maxBodyBytes: config.maxBodyBytes,
    maxResponseBytes: security.graphql.maxResponseBytes,
    authRealm: config.authRealm,
  });
  const pages = await createStaticPages({ directory: webDir ?? config.webDir, logger });
  const router = createRouter({
    graphql,
    pages,
    healthz: handleHealth,
    readyz: createReadinessCheck(dataSource),
    metricsRoute: createMetricsRoute(metrics.registry, config.metricsToken),
    baseHeaders: baseHeaders(config.introspection),
    security,
    accessLog: createAccessLog(logger),
    metrics,
    logger,
  });
  const server = createHttpServer(router);
  let stopping: Promise<void> | null = null;
  return {
    httpServer: server.server,
    metrics,
    listen: (port = config.port, host = config.host) => server.listen(port, host),
    stop: () => (stopping ??= server.close().then(() => apollo.stop())),
  };
}
