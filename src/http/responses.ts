import type { HTTPGraphQLResponse } from "@apollo/server";
import type { GraphQLError } from "graphql";
import type { ServerResponse } from "node:http";

/** On every response (with the CSP, which depends on the config). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
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
export const DOCUMENT_HEADERS: readonly string[] = ["x-frame-options", "DENY", "referrer-policy", "no-referrer", "cross-origin-opener-policy", "same-origin"];

/** The security headers of every response, as a flat [name, value, …] list for writeHead. */
export function baseHeaders(introspection: boolean): readonly string[] {
  const csp = introspection ? "frame-ancestors 'none'" : "default-src 'none'; frame-ancestors 'none'";
  return [...Object.entries(SECURITY_HEADERS).flat(), "content-security-policy", csp];
}

/**
 * A copy of a flat [name, value, …] header list with the named headers' values replaced (names in
 * lower case, as this server writes them); headers not in the list are appended.
 */
export function withHeaders(headers: readonly string[], replacements: Readonly<Record<string, string>>): string[] {
  const result: string[] = [];
  const replaced = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (Object.hasOwn(replacements, name)) {
      if (!replaced.has(name)) result.push(name, replacements[name]);
      replaced.add(name);
    } else result.push(name, headers[i + 1]);
  }
  for (const [name, value] of Object.entries(replacements)) if (!replaced.has(name)) result.push(name, value);
  return result;
}

/** `headers`: the response's common headers (security, request id, CORS); `extra`: this answer's own. */
export function sendJson(res: ServerResponse, status: number, payload: unknown, headers: readonly string[], extra: readonly string[] = []): void {
  sendJsonText(res, status, JSON.stringify(payload), headers, extra);
}

export function sendJsonText(res: ServerResponse, status: number, body: string, headers: readonly string[], extra: readonly string[] = []): void {
  res.writeHead(status, [...headers, "content-type", "application/json; charset=utf-8", "content-length", String(Buffer.byteLength(body)), ...extra]);
  res.end(body);
}

/**
 * The body GraphQL clients expect for an error answered outside GraphQL execution: the error's
 * message and its extensions, without the `http` hint Apollo reads (the status says it already).
 */
export function errorBody(error: GraphQLError): string {
  const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
  return JSON.stringify({ errors: [{ message: error.message, extensions }] });
}

/** An errors.ts error as the whole answer, with the status its extensions name. */
export function sendError(res: ServerResponse, error: GraphQLError, headers: readonly string[], extra: readonly string[] = []): void {
  sendJsonText(res, statusOf(error), errorBody(error), headers, extra);
}

export function statusOf(error: GraphQLError): number {
  return (error.extensions.http as { status?: number } | undefined)?.status ?? 500;
}

export function writeGraphQLResponse(res: ServerResponse, response: HTTPGraphQLResponse, headers: string[]): Promise<void> | void {
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
