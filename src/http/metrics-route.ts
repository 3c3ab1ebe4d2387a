import { GraphQLError } from "graphql";
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { sendError } from "./responses";

const TOKEN_REQUIRED = new GraphQLError("Metrics need a bearer token.", { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });

/**
 * GET /metrics: the registry in Prometheus text format; 401 without the bearer token when one is
 * configured. `headers`: the server's common response headers, as a flat [name, value, …] list.
 */
export function createMetricsRoute(registry: Registry, token: string | undefined) {
  const tokenDigest = token ? digest(token) : null;
  const authorized = (header: string | undefined): boolean => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
    // Digests have equal length whatever was sent, so the comparison is constant-time.
    return match !== null && timingSafeEqual(digest(match[1]), tokenDigest!);
  };
  return async function handleMetrics(req: IncomingMessage, res: ServerResponse, headers: readonly string[]): Promise<void> {
    if (tokenDigest && !authorized(req.headers.authorization)) return sendError(res, TOKEN_REQUIRED, headers, ["www-authenticate", 'Bearer realm="metrics"']);
    const text = await registry.metrics();
    res.writeHead(200, [...headers, "content-type", registry.contentType, "content-length", String(Buffer.byteLength(text))]);
    res.end(text);
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
