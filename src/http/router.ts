import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { SecurityConfig } from "../config";
import { isDatabaseUnavailable } from "../db/database-faults";
import { BadRequestError, InternalServerError, NotFoundError, ServiceUnavailableError } from "../errors";
import type { Metrics } from "../observability/metrics";
import type { AccessLog, RequestLog } from "./access-log";
import { clientIp } from "./client-ip";
import { applyCors } from "./cors";
import type { GraphQLHandler } from "./graphql-handler";
import { sendError } from "./responses";
import { ASSET_PREFIX, PAGE_PATHS, type StaticPages } from "./static-pages";

/**
 * The API's paths, each its own metrics route label. The pages answer too: PAGE_PATHS (label
 * "page") and /assets/… (label "asset"); anything else is 404 (label "other").
 */
export const KNOWN_ROUTES: ReadonlySet<string> = new Set(["/graphql", "/healthz", "/readyz", "/metrics"]);

type Route = (req: IncomingMessage, res: ServerResponse, headers: string[]) => Promise<void>;

export interface RouterOptions {
  graphql: GraphQLHandler;
  healthz: Route;
  readyz: Route;
  metricsRoute: Route;
  /** The web pages and their assets (./static-pages.ts). */
  pages: Pick<StaticPages, "page" | "asset">;
  /** Security headers every response carries (responses.ts baseHeaders). */
  baseHeaders: readonly string[];
  security: Pick<SecurityConfig, "trustProxy" | "corsOrigins">;
  accessLog: AccessLog;
  metrics: Metrics;
  logger: Logger;
}

const NOT_FOUND = new NotFoundError("Not found. The GraphQL endpoint is /graphql.");

/** node:http's request listener: CORS, the route, then one access line and one metrics sample per request. */
export function createRouter(options: RouterOptions): RequestListener {
  const { graphql, healthz, readyz, metricsRoute, pages, baseHeaders, security, accessLog, metrics, logger } = options;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const log: RequestLog = { requestId: randomUUID(), clientIp: clientIp(req, security.trustProxy), identity: null, operation: null };
    // Every response's headers, as one flat list for one writeHead: Node's per-response header
    // map (a setHeader per header) cost twice as many instructions as the same headers as a list.
    const headers = [...baseHeaders, "x-request-id", log.requestId];
    const done = () => finish(req, res, log, Number(process.hrtime.bigint() - started) / 1e6, accessLog, metrics);

    const target = requestTarget(req.url);
    if (!target) {
      sendError(res, new BadRequestError("Malformed request URL."), headers);
      return done();
    }
    if (applyCors(req, res, security.corsOrigins, headers)) return done();
    let handled: Promise<void>;
    switch (target.pathname) {
      case "/graphql":
        handled = graphql(req, res, target.search, log, headers);
        break;
      case "/healthz":
        handled = healthz(req, res, headers);
        break;
      case "/readyz":
        handled = readyz(req, res, headers);
        break;
      case "/metrics":
        handled = metricsRoute(req, res, headers);
        break;
      default: {
        // After the API's cases, so /graphql's request pays nothing for the pages.
        const { pathname } = target;
        if (PAGE_PATHS.has(pathname)) handled = pages.page(req, res, headers);
        else if (pathname.startsWith(ASSET_PREFIX)) handled = pages.asset(req, res, pathname, headers);
        else handled = Promise.resolve(sendError(res, NOT_FOUND, headers));
      }
    }
    // One reaction per request, not a catch() and a finally() (two more promises on the hot path).
    handled.then(done, (error: unknown) => {
      try {
        answerFailure(error, req, res, log.requestId, headers, logger);
      } finally {
        done();
      }
    });
  };
}

/** The access line and the metrics of one finished request. */
function finish(req: IncomingMessage, res: ServerResponse, log: RequestLog, durationMs: number, accessLog: AccessLog, metrics: Metrics): void {
  const path = rawPath(req.url);
  // Only an authenticated request names an operation label: anonymous requests with made-up
  // names would otherwise fill every label there is.
  const operation = log.identity ? (log.operation?.name ?? undefined) : undefined;
  metrics.observeRequest(routeLabel(path), operation, res.statusCode, durationMs / 1000);
  accessLog({
    requestId: log.requestId,
    method: req.method,
    path,
    status: res.statusCode,
    durationMs: Math.round(durationMs * 1000) / 1000,
    clientIp: log.clientIp,
    userId: log.identity?.userId,
    email: log.identity?.email,
    authMethod: log.identity?.method,
    keyId: log.identity?.keyId ?? undefined,
    authFailure: log.reason,
    operationName: log.operation?.name ?? undefined,
    operationType: log.operation?.type,
    throttled: log.throttled,
  });
}

/** The metrics route label of a raw path: bounded to the API's paths, "page", "asset" and "other". */
export function routeLabel(path: string | undefined): string {
  if (path === undefined) return "other";
  if (KNOWN_ROUTES.has(path)) return path;
  if (PAGE_PATHS.has(path)) return "page";
  return path.startsWith(ASSET_PREFIX) ? "asset" : "other";
}

/** A request whose handler threw: 503 for an unreachable database, else 500; never the error itself. */
function answerFailure(error: unknown, req: IncomingMessage, res: ServerResponse, requestId: string, headers: string[], logger: Logger): void {
  if (req.destroyed && !res.headersSent) {
    // The client went away mid-request (aborted upload, reset): nothing to answer, not our fault.
    logger.info({ requestId, err: { message: (error as Error)?.message } }, "client aborted the request");
    res.destroy();
    return;
  }
  const unavailable = isDatabaseUnavailable(error);
  logger.error({ err: error, requestId }, unavailable ? "database unavailable" : "request failed");
  if (res.headersSent) res.destroy();
  else sendError(res, unavailable ? new ServiceUnavailableError() : new InternalServerError(), headers);
}

/**
 * Path and query string of the request target. A bare known path (every scripted POST) is taken as
 * it is; anything else goes through WHATWG URL parsing (dot segments, escapes, absolute form), which
 * costs more than the rest of routing. Null when the target cannot be parsed.
 */
function requestTarget(raw: string | undefined): { pathname: string; search: string } | null {
  if (raw !== undefined && KNOWN_ROUTES.has(raw)) return { pathname: raw, search: "" };
  try {
    const url = new URL(raw ?? "/", "http://localhost");
    return { pathname: url.pathname, search: url.search };
  } catch {
    return null;
  }
}

function rawPath(raw: string | undefined): string | undefined {
  const query = raw?.indexOf("?") ?? -1;
  return query < 0 ? raw : raw!.slice(0, query);
}
