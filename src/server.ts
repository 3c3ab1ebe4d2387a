import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { GraphQLFormattedError } from "graphql";
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { createAccessLog } from "./access-log";
import { Authenticator } from "./auth/authenticator";
import type { Context } from "./auth/context.type";
import { parseCredentials } from "./auth/credentials";
import type { Identity } from "./auth/identity";
import type { Config } from "./config";
import {
  AUTH_FAILURE_HINTS,
  type AuthFailureReason,
  INTERNAL_ERROR_MESSAGE,
  PERMISSION_DENIED_MESSAGE,
  PUBLIC_ERROR_CODES,
  SERVICE_UNAVAILABLE_MESSAGE,
  TOO_MANY_REQUESTS_MESSAGE,
} from "./errors";
import { AuthGate } from "./security/auth-gate";
import { AuthThrottle } from "./security/auth-throttle";
import { clientIp } from "./security/client-ip";
import { applyCors } from "./security/cors";
import { isDatabaseUnavailable } from "./security/database-faults";
import { graphqlLimits, withoutFieldSuggestions } from "./security/graphql-limits";
import { type OperationInfo, OperationNames } from "./operation-names";
import { Metrics } from "./metrics";
import { KNOWN_ROUTES } from "./routes";
import { createSchema } from "./schema";
import type { Services } from "./services";
import { PurgeJob } from "./services/purge-job";
import { SessionAuthenticator } from "./auth/sessions/session-authenticator";
import { SessionCache } from "./auth/sessions/session-cache";
import { DeviceCookies } from "./auth/device-cookies";
import { type CookiePolicy, RequestCookies, serializeCookie, SESSION_COOKIE, isSecureRequest, sessionCookieOf } from "./http/cookies";

export interface AppDependencies {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  services: Services;
  /** Defaults to a fresh per-app Registry; pass one to share or inspect it. */
  metrics?: Metrics;
}

export interface App {
  httpServer: http.Server;
  metrics: Metrics;
  /** Resolves with the bound port (pass port 0 for any free one). */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets in-flight requests finish, flushes lastUsedAt. Leaves the DataSource open. */
  stop(): Promise<void>;
}

/**
 * The request headers Apollo itself reads with the plugins installed here: the body's type and
 * CSRF prevention's preflight headers (@apollo/server's preventCsrf), and the response type
 * negotiation (accept). Only these are handed over: copying every header cost work on each request, and
 * this way the credentials (Authorization, apikey) never enter Apollo's request object at all.
 */
const APOLLO_REQUEST_HEADERS = ["content-type", "accept", "apollo-require-preflight", "x-apollo-operation-name"] as const;

/** Keeps a 100 KB Authorization header answerable with a clean 401 instead of Node's 431. */
const MAX_HEADER_BYTES = 256 * 1024;

/** On every response (with the CSP, which depends on the config). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  // A response may hold a freshly generated key: no cache may keep it.
  "cache-control": "no-store",
  "strict-transport-security": "max-age=31536000",
};

/**
 * Headers that only act on a document a browser renders, so only on HTML (Apollo's landing page,
 * when introspection is on): every other response is JSON, which opens no window, loads nothing
 * and is never framed (CSP frame-ancestors 'none' on every response already forbids framing).
 * Node validates and serialises each header of each response: sent on JSON too, these three cost
 * about 1.2k instructions apiece per request and protected nothing.
 */
const DOCUMENT_HEADERS: readonly string[] = ["x-frame-options", "DENY", "referrer-policy", "no-referrer", "cross-origin-opener-policy", "same-origin"];

export async function createApp({ config, dataSource, logger, services, metrics: injectedMetrics }: AppDependencies): Promise<App> {
  const metrics = injectedMetrics ?? new Metrics({ dataSource, lastUsed: services.lastUsed, logger }, { token: config.metricsToken });
  const purgeJob = new PurgeJob(services.keyRetention, config.purgeIntervalMs, logger, services.sessions);
  const sessionCache = new SessionCache(services.revocations.cache, config.keyCacheMaxEntries);
  const sessionAuth = new SessionAuthenticator(dataSource, sessionCache, services.keyTags, services.sessionActivity, { idleTimeoutMs: config.sessions.idleTimeoutMs });
  const authenticator = new Authenticator(dataSource, services.lastUsed, services.apiKeys, services.revocations.cache, services.keyTags, sessionAuth);
  const { security } = config;
  const cookiePolicy: CookiePolicy = { secure: config.sessions.cookieSecure, trustProxy: security.trustProxy, corsOrigins: security.corsOrigins };
  // Failed authentications per client IP and per account: in memory, per instance (README).
  const throttle = new AuthThrottle({ limit: security.authFailureLimit, windowMs: security.authFailureWindowMs, maxEntries: security.authThrottleMaxEntries });
  const gate = new AuthGate(authenticator, throttle);
  const deviceCookies = new DeviceCookies(dataSource, config.sessions.deviceCookieLifetimeMs);
  const limits = graphqlLimits(security.graphql);
  const operations = new OperationNames(limits.parseOptions);
  const accessLog = createAccessLog(logger);
  const apollo = new ApolloServer<Context>({
    schema: await createSchema(services, { gate, deviceCookies }),
    introspection: config.introspection,
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
    plugins: [ApolloServerPluginCacheControlDisabled(), ApolloServerPluginInlineTraceDisabled(), ...(config.introspection ? [] : [ApolloServerPluginLandingPageDisabled()])],
  });
  await apollo.start();
  // Now, not on the first request: a database without the tag secret (migrations not run) fails here.
  await services.keyTags.load();
  await deviceCookies.load();
  services.lastUsed.start();
  services.sessionActivity.start();
  services.audit.start();
  services.revocations.start();
  purgeJob.start();

  const challenge = `Basic realm="${config.authRealm}", charset="UTF-8"`;
  const csp = config.introspection ? "frame-ancestors 'none'" : "default-src 'none'; frame-ancestors 'none'";
  const baseHeaders: readonly string[] = [...Object.entries(SECURITY_HEADERS).flat(), "content-security-policy", csp];

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, search: string, log: RequestLog, headers: string[]): Promise<void> {
    let credentials = parseCredentials({ authorization: req.headers.authorization, apikey: headerValue(req.headers.apikey) });
    if (credentials.kind === "none") {
      const token = sessionCookieOf(req, cookiePolicy);
      if (token !== undefined) credentials = { kind: "session", token };
    }
    const pending = gate.authenticate(credentials, log.clientIp);
    const auth = pending instanceof Promise ? await pending : pending;
    metrics.observeAuth(credentials, auth);
    if (!auth.ok && auth.throttled) {
      log.throttled = true;
      services.audit.noteAuthFailure({ reason: "TOO_MANY_REQUESTS", method: credentials.kind, ip: log.clientIp });
      return sendJson(res, 429, { errors: [{ message: TOO_MANY_REQUESTS_MESSAGE, extensions: { code: "TOO_MANY_REQUESTS", retryAfterSeconds: auth.retryAfterSeconds } }] }, headers, ["retry-after", String(auth.retryAfterSeconds)]);
    }
    if (!auth.ok) {
      log.reason = auth.reason;
      services.audit.noteAuthFailure({ reason: auth.reason, method: auth.method, ip: log.clientIp, userId: auth.account?.userId, email: auth.account?.email });
      // An ended session's cookie is cleared, so the browser stops sending it; no Basic challenge to a browser.
      if (credentials.kind === "session") return sendAuthFailure(res, auth.reason, ["set-cookie", serializeCookie(SESSION_COOKIE, "", { secure: isSecureRequest(req, cookiePolicy), sameSite: "Lax", maxAgeSeconds: 0 })], headers);
      return sendAuthFailure(res, auth.reason, ["www-authenticate", challenge], headers);
    }
    log.identity = auth.identity;

    let body: unknown = undefined;
    if (req.method === "POST") {
      const read = await readBody(req, config.maxBodyBytes);
      if (!read.ok) return sendError(res, 413, "BAD_REQUEST", `Request body is larger than ${config.maxBodyBytes} bytes.`, headers);
      body = read.text;
      // application/json, application/graphql-response+json and the like.
      if (/\bjson\b/i.test(req.headers["content-type"] ?? "")) {
        try {
          body = read.text === "" ? {} : JSON.parse(read.text);
        } catch {
          return sendError(res, 400, "BAD_REQUEST", "Request body is not valid JSON.", headers);
        }
      }
    }

    const requestHeaders = new HeaderMap();
    for (const name of APOLLO_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (value !== undefined) requestHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    log.operation = operationOf(body, search);
    const cookies = new RequestCookies(req, cookiePolicy);
    const context: Context = { identity: auth.identity, requestId: log.requestId, clientIp: log.clientIp, cookies };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers: requestHeaders, search, body },
      context: async () => context,
    });
    for (const line of cookies.setCookies) headers.push("set-cookie", line);
    if (response.status === 401 && !cookies.touched && credentials.kind !== "session") response.headers.set("www-authenticate", challenge);
    if (hasUnavailableError(response)) response.status = 503;
    await writeGraphQLResponse(res, response, headers);
  }

  /** The operation a POST body or a GET query string names, for the access line and the metrics. */
  function operationOf(body: unknown, search: string): OperationInfo | null {
    if (body !== null && typeof body === "object" && !Array.isArray(body)) {
      const { query, operationName } = body as { query?: unknown; operationName?: unknown };
      return operations.of(query, operationName);
    }
    if (body === undefined && search) {
      const params = new URLSearchParams(search);
      return operations.of(params.get("query") ?? undefined, params.get("operationName") ?? undefined);
    }
    return null;
  }

  async function handleReady(res: ServerResponse, headers: string[]): Promise<void> {
    try {
      await dataSource.query("SELECT 1");
      const pending = await dataSource.showMigrations();
      if (pending) return sendJson(res, 503, { status: "unavailable", reason: "migrations pending" }, headers);
      sendJson(res, 200, { status: "ready" }, headers);
    } catch {
      sendJson(res, 503, { status: "unavailable", reason: "database unreachable" }, headers);
    }
  }

  const httpServer = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const started = process.hrtime.bigint();
    const log: RequestLog = { requestId: randomUUID(), clientIp: clientIp(req, security.trustProxy), identity: null, operation: null };
    // Every response's headers, as one flat list for one writeHead: Node's per-response header
    // map (a setHeader per header) cost twice as many instructions as the same headers as a list.
    const headers = [...baseHeaders, "x-request-id", log.requestId];

    const done = () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const path = rawPath(req.url);
      metrics.observeRequest(path, log.operation?.name ?? undefined, res.statusCode, durationMs / 1000);
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
    };

    const target = requestTarget(req.url);
    if (!target) {
      sendError(res, 400, "BAD_REQUEST", "Malformed request URL.", headers);
      return done();
    }
    if (applyCors(req, res, security.corsOrigins, headers)) return done();
    let handled: Promise<void>;
    switch (target.pathname) {
      case "/graphql":
        handled = handleGraphQL(req, res, target.search, log, headers);
        break;
      case "/healthz":
        handled = Promise.resolve(sendJson(res, 200, { status: "ok" }, headers));
        break;
      case "/readyz":
        handled = handleReady(res, headers);
        break;
      case "/metrics":
        handled = metrics.handle(req, res, headers);
        break;
      default:
        handled = Promise.resolve(sendError(res, 404, "NOT_FOUND", "Not found. The GraphQL endpoint is /graphql.", headers));
    }
    // One reaction per request, not a catch() and a finally() (two more promises on the hot path).
    handled.then(done, (error: unknown) => {
      try {
        answerFailure(error, req, res, log.requestId, headers);
      } finally {
        done();
      }
    });
  });

  /** A request whose handler threw: 503 for an unreachable database, else 500; never the error itself. */
  function answerFailure(error: unknown, req: IncomingMessage, res: ServerResponse, requestId: string, headers: string[]): void {
    if (req.destroyed && !res.headersSent) {
      // The client went away mid-request (aborted upload, reset): nothing to answer, not our fault.
      logger.info({ requestId, err: { message: (error as Error)?.message } }, "client aborted the request");
      res.destroy();
      return;
    }
    const unavailable = isDatabaseUnavailable(error);
    logger.error({ err: error, requestId }, unavailable ? "database unavailable" : "request failed");
    if (!res.headersSent && unavailable) sendError(res, 503, "SERVICE_UNAVAILABLE", SERVICE_UNAVAILABLE_MESSAGE, headers);
    else if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", INTERNAL_ERROR_MESSAGE, headers);
    else res.destroy();
  }
  httpServer.headersTimeout = 20_000;
  httpServer.requestTimeout = 30_000;
  // Node answers its own parse errors (bad request line, oversize headers) here; keep them clean too.
  httpServer.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const body = JSON.stringify({ errors: [{ message: status === 431 ? "Request headers too large." : "Malformed HTTP request.", extensions: { code: "BAD_REQUEST" } }] });
    const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`);
  });

  let stopping: Promise<void> | null = null;
  return {
    httpServer,
    metrics,
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          const address = httpServer.address() as AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve({ port: address.port, url: `http://${shownHost}:${address.port}/graphql` });
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        await closed;
        await apollo.stop();
        await purgeJob.stop();
        await services.lastUsed.stop();
        await services.sessionActivity.stop();
        await services.audit.stop();
        await services.revocations.stop();
      })();
      return stopping;
    },
  };
}

interface RequestLog {
  requestId: string;
  clientIp: string;
  identity: Identity | null;
  reason?: AuthFailureReason;
  operation: OperationInfo | null;
  throttled?: boolean;
}

/**
 * A response whose errors include SERVICE_UNAVAILABLE (maskError gives that code to errors from an
 * unreachable database) is an HTTP 503, so load balancers and clients retry elsewhere or later.
 * Apollo takes a status from errors only through `extensions.http`, which it reads before
 * formatError runs, and setting it earlier would need a request plugin whose hooks Apollo awaits
 * at every stage of every request; so the encoded response is checked here instead. The text
 * test is a pre-filter (a key description could hold the word); only a body that contains it is
 * parsed to look at its errors' codes.
 */
function hasUnavailableError(response: HTTPGraphQLResponse): boolean {
  if (response.body.kind !== "complete" || !response.body.string.includes('"SERVICE_UNAVAILABLE"')) return false;
  try {
    const { errors } = JSON.parse(response.body.string) as { errors?: Array<{ extensions?: { code?: unknown } }> };
    return Array.isArray(errors) && errors.some((error) => error?.extensions?.code === "SERVICE_UNAVAILABLE");
  } catch {
    return false;
  }
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

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<{ ok: true; text: string } | { ok: false }> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        req.resume(); // drain the rest without keeping it
        resolve({ ok: false });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!settled) {
        settled = true;
        resolve({ ok: true, text: (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString("utf8") });
      }
    });
    req.on("error", (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
  });
}

function writeGraphQLResponse(res: ServerResponse, response: HTTPGraphQLResponse, headers: string[]): Promise<void> | void {
  for (const [name, value] of response.headers) {
    headers.push(name, value);
    if (name === "content-type" && value.startsWith("text/html")) headers.push(...DOCUMENT_HEADERS);
  }
  if (response.body.kind === "complete") {
    const body = response.body.string;
    // writeHead sends the header now, so Node cannot add the length at end() any more.
    headers.push("content-length", String(Buffer.byteLength(body)));
    res.writeHead(response.status ?? 200, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status ?? 200, headers);
  return streamChunks(res, response.body.asyncIterator);
}

async function streamChunks(res: ServerResponse, chunks: AsyncIterableIterator<string>): Promise<void> {
  for await (const chunk of chunks) res.write(chunk);
  res.end();
}

/** `headers`: the response's common headers (security, request id, CORS); `extra`: this answer's own. */
function sendJson(res: ServerResponse, status: number, payload: unknown, headers: readonly string[], extra: readonly string[] = []): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, [...headers, "content-type", "application/json; charset=utf-8", "content-length", String(Buffer.byteLength(body)), ...extra]);
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: readonly string[]): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

function sendAuthFailure(res: ServerResponse, reason: AuthFailureReason, extra: readonly string[], headers: readonly string[]): void {
  sendJson(res, 401, { errors: [{ message: PERMISSION_DENIED_MESSAGE, extensions: { code: "UNAUTHENTICATED", reason, hint: AUTH_FAILURE_HINTS[reason] } }] }, headers, extra);
}

const INVALID_VARIABLE = /^Variable "\$([^"]+)" got invalid value /;

/**
 * What the client may see: our own codes and GraphQL's request errors pass; anything else
 * (a driver error, a bug) becomes a bare INTERNAL_SERVER_ERROR and is logged here in full.
 */
function maskError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
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
