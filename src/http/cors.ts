import type { IncomingMessage, ServerResponse } from "node:http";

const ALLOWED_METHODS = "GET, POST, OPTIONS";
const ALLOWED_HEADERS = "Authorization, Content-Type, apikey, Apollo-Require-Preflight, X-Apollo-Operation-Name, X-Requested-With";

/**
 * CORS with a safe default: no CORS_ORIGINS means no Access-Control-Allow-Origin at all, so
 * browsers keep other sites' pages from reading responses. Listed origins are echoed back
 * (with Vary: Origin); "*" allows any origin, never with credentials.
 * Adds its headers to `headers`, the response's flat [name, value, …] list. Returns true when the
 * request was a preflight and has been answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: string[], headers: string[]): boolean {
  const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
  headers.push("vary", "Origin");
  const allowAny = allowedOrigins.includes("*");
  const allowed = origin !== undefined && (allowAny || allowedOrigins.includes(origin.replace(/\/$/, "")));
  if (allowed) {
    headers.push("access-control-allow-origin", allowAny ? "*" : origin);
    if (!allowAny) headers.push("access-control-allow-credentials", "true");
    headers.push("access-control-expose-headers", "Retry-After, X-Request-Id, WWW-Authenticate");
  }
  const isPreflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  if (!isPreflight) return false;
  if (allowed) headers.push("access-control-allow-methods", ALLOWED_METHODS, "access-control-allow-headers", ALLOWED_HEADERS, "access-control-max-age", "600");
  res.writeHead(204, [...headers, "content-length", "0"]);
  res.end();
  return true;
}
