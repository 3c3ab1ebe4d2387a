import { type ApolloServer, HeaderMap, type HTTPGraphQLResponse } from "@apollo/server";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthGate } from "../auth/auth-gate";
import type { Context } from "../auth/context.type";
import { parseCredentials } from "../auth/credentials";
import { type AuthFailureReason, type AuthMistake, PasswordLineFullError, ResponseTooLargeError, TooManyRequestsError, UnauthenticatedError } from "../errors";
import type { Metrics } from "../observability/metrics";
import type { AuditService } from "../services/audit.service";
import type { RequestLog } from "./access-log";
import { readGraphQLBody } from "./body";
import type { OperationInfo, OperationNames } from "./operation-names";
import { type CookiePolicy, clearedSessionCookie, RequestCookies, sessionCookieOf } from "./cookies";
import { errorBody, sendError, sendJsonText, writeGraphQLResponse } from "./responses";

/**
 * The request headers Apollo itself reads with the plugins installed here: the body's type and
 * CSRF prevention's preflight headers (@apollo/server's preventCsrf), and the response type
 * negotiation (accept). Only these are handed over: copying every header cost work on each request, and
 * this way the credentials (Authorization, apikey) never enter Apollo's request object at all.
 */
const APOLLO_REQUEST_HEADERS = ["content-type", "accept", "apollo-require-preflight", "x-apollo-operation-name"] as const;

export interface GraphQLHandlerOptions {
  apollo: ApolloServer<Context>;
  gate: AuthGate;
  /** Which session cookies a request may use, and how they are set (./cookies.ts). */
  cookiePolicy: CookiePolicy;
  operations: OperationNames;
  metrics: Metrics;
  audit: Pick<AuditService, "noteAuthFailure">;
  maxBodyBytes: number;
  /** A bigger encoded result is refused (400 RESPONSE_TOO_LARGE) instead of sent. */
  maxResponseBytes: number;
  /** Shown in the WWW-Authenticate challenge. */
  authRealm: string;
}

export type GraphQLHandler = (req: IncomingMessage, res: ServerResponse, search: string, log: RequestLog, headers: string[]) => Promise<void>;

/**
 * POST/GET /graphql: credentials -> identity (the gate), then the body, then Apollo's
 * executeHTTPGraphQLRequest with that identity in the context. Apollo runs without request
 * plugins: each plugin's hooks are awaited at every stage of every request, and the benchmarks
 * measured what they cost; what a plugin would do (naming the operation, the 503 status) is done here.
 */
export function createGraphQLHandler({ apollo, gate, cookiePolicy, operations, metrics, audit, maxBodyBytes, maxResponseBytes, authRealm }: GraphQLHandlerOptions): GraphQLHandler {
  const challenge = ["www-authenticate", `Basic realm="${authRealm}", charset="UTF-8"`];
  // One body per reason (and mistake), made once: a refused key costs no error object and no JSON.stringify.
  const refusals = new Map<string, string>();
  const refusalBody = (reason: AuthFailureReason, mistake: AuthMistake | undefined) => {
    const key = mistake ? `${reason} ${mistake}` : reason;
    return refusals.get(key) ?? refusals.set(key, errorBody(new UnauthenticatedError(reason, mistake))).get(key)!;
  };

  return async function handleGraphQL(req, res, search, log, headers) {
    let credentials = parseCredentials({ authorization: req.headers.authorization, apikey: headerValue(req.headers.apikey) });
    if (credentials.kind === "none") {
      // Header credentials win; a session cookie counts only from this origin or one in CORS_ORIGINS.
      const token = sessionCookieOf(req, cookiePolicy);
      if (token !== undefined) credentials = { kind: "session", token };
    }
    const pending = gate.authenticate(credentials, log.clientIp);
    const auth = pending instanceof Promise ? await pending : pending;
    if (credentials.kind !== "none") metrics.observeAuth(credentials, auth);
    if (!auth.ok && auth.throttled && auth.busy) {
      return sendError(res, new PasswordLineFullError(auth.retryAfterSeconds), headers, ["retry-after", String(auth.retryAfterSeconds)]);
    }
    if (!auth.ok && auth.throttled) {
      log.throttled = true;
      audit.noteAuthFailure({ reason: "TOO_MANY_REQUESTS", method: credentials.kind, ip: log.clientIp });
      return sendError(res, new TooManyRequestsError(auth.retryAfterSeconds), headers, ["retry-after", String(auth.retryAfterSeconds)]);
    }
    if (!auth.ok) {
      log.reason = auth.reason;
      audit.noteAuthFailure({ reason: auth.reason, method: auth.method, ip: log.clientIp, userId: auth.account?.userId, email: auth.account?.email });
      // An ended session's cookie is cleared so the browser stops sending it; and no Basic challenge to a browser.
      const extra = credentials.kind === "session" ? ["set-cookie", clearedSessionCookie(req, cookiePolicy)] : fromPageScript(req) ? [] : challenge;
      return sendJsonText(res, 401, refusalBody(auth.reason, auth.mistake), headers, extra);
    }
    log.identity = auth.identity;

    const reading = readGraphQLBody(req, maxBodyBytes);
    const read = reading instanceof Promise ? await reading : reading;
    if (!read.ok) return sendError(res, read.error, headers);
    log.operation = operationOf(operations, read.body, search);
    const cookies = new RequestCookies(req, cookiePolicy);
    const context: Context = { identity: auth.identity, requestId: log.requestId, clientIp: log.clientIp, cookies };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers: apolloHeaders(req), search, body: read.body },
      context: async () => context,
    });
    for (const line of cookies.setCookies) headers.push("set-cookie", line);
    if (response.status === 401 && !cookies.touched && credentials.kind !== "session" && !fromPageScript(req)) response.headers.set(challenge[0], challenge[1]);
    // Without credentials, the only refusal is MISSING: counted now that the operation decided.
    if (credentials.kind === "none") metrics.observeAnonymous(response.status === 401);
    if (hasUnavailableError(response)) response.status = 503;
    // The cost limit keeps results near its estimate; long texts can still outgrow it. UTF-8 takes
    // at most 3 bytes per UTF-16 unit, so a short string is not measured.
    if (response.body.kind === "complete" && response.body.string.length * 3 > maxResponseBytes && Buffer.byteLength(response.body.string) > maxResponseBytes) {
      return sendError(res, new ResponseTooLargeError(), headers);
    }
    await writeGraphQLResponse(res, response, headers);
  };
}

/**
 * A request made by a page's script (fetch or XMLHttpRequest), not by a script or a navigation:
 * its 401 carries no Basic challenge, which would open the browser's own login dialog over the
 * page. The pages send `X-Requested-With: XMLHttpRequest`. Browsers also mark every request to a
 * secure origin (https, localhost) with `Sec-Fetch-Mode` (cors, same-origin, no-cors…; `navigate`
 * when the user opens the URL itself) and always with `Sec-Fetch-Site` beside it; Node's fetch
 * sends `Sec-Fetch-Mode: cors` alone, and such a script keeps its challenge.
 * Read only on the way to a 401.
 */
function fromPageScript(req: IncomingMessage): boolean {
  const requestedWith = req.headers["x-requested-with"];
  if (typeof requestedWith === "string" && requestedWith.toLowerCase() === "xmlhttprequest") return true;
  const mode = req.headers["sec-fetch-mode"];
  return typeof mode === "string" && mode !== "navigate" && req.headers["sec-fetch-site"] !== undefined;
}

function apolloHeaders(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const name of APOLLO_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

/** The operation a POST body or a GET query string names, for the access line and the metrics. */
function operationOf(operations: OperationNames, body: unknown, search: string): OperationInfo | null {
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

/**
 * A response whose errors include SERVICE_UNAVAILABLE (maskError gives that code to errors from an
 * unreachable database) is an HTTP 503, so load balancers and clients retry elsewhere or later.
 * Apollo takes a status from errors only through `extensions.http`, which it reads before
 * formatError runs, and setting it earlier would need a request plugin whose hooks Apollo awaits
 * at every stage of every request; so the encoded response is checked here instead. The text
 * tests are pre-filters: Apollo writes `errors` first, so a body without errors (a large page of
 * keys, say) is passed without being scanned; a key description could hold the word, so only a
 * body that contains it is parsed to look at its errors' codes.
 */
const ERRORS_FIRST = '{"errors":';

function hasUnavailableError(response: HTTPGraphQLResponse): boolean {
  if (response.body.kind !== "complete" || !response.body.string.startsWith(ERRORS_FIRST) || !response.body.string.includes('"SERVICE_UNAVAILABLE"')) return false;
  try {
    const { errors } = JSON.parse(response.body.string) as { errors?: Array<{ extensions?: { code?: unknown } }> };
    return Array.isArray(errors) && errors.some((error) => error?.extensions?.code === "SERVICE_UNAVAILABLE");
  } catch {
    return false;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
