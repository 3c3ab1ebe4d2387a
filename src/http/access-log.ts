import pino, { type Logger } from "pino";
import type { Identity } from "../auth/identity";
import type { AuthFailureReason } from "../errors";
import type { OperationInfo } from "./operation-names";
import { KNOWN_ROUTES } from "./router";

/**
 * One line per HTTP request. Every field is chosen by the server; none can hold a secret. Only
 * `path` and `email` can hold characters JSON must escape: the others are a UUID, an HTTP method
 * (a token, by Node's parser), an IP address (the socket's, or one that matched an address
 * pattern), fixed words, and a GraphQL name (letters, digits, underscores, by the grammar).
 */
export interface AccessLogEntry {
  requestId: string;
  method: string | undefined;
  path: string | undefined;
  status: number;
  durationMs: number;
  clientIp: string;
  userId?: number;
  email?: string;
  authMethod?: "apikey" | "password";
  keyId?: number;
  authFailure?: AuthFailureReason;
  operationName?: string;
  operationType?: "query" | "mutation" | "subscription";
  throttled?: boolean;
}

export type AccessLog = (entry: AccessLogEntry) => void;

/** What the access line and the metrics learn about a request while it is handled. */
export interface RequestLog {
  requestId: string;
  clientIp: string;
  identity: Identity | null;
  reason?: AuthFailureReason;
  operation: OperationInfo | null;
  throttled?: boolean;
}

interface PinoInternals {
  [key: symbol]: unknown;
}

/**
 * The access log, written as `logger.info(entry, "request")` would write it, byte for byte, but
 * formatted by hand: the line has a fixed shape, and pino's generic path (redaction, per-key
 * serializer lookup, hooks) cost more per request than the rest of our own request handling.
 * At creation the hand-made line is compared with pino's own for sample entries; a logger whose
 * output differs (custom formatters, serializers, a mixin, a multistream) keeps pino's path.
 */
export function createAccessLog(logger: Logger): AccessLog {
  const generic: AccessLog = (entry) => logger.info(entry, "request");
  const internals = logger as unknown as PinoInternals;
  const { symbols } = pino;
  const stream = internals[symbols.streamSym] as { write(line: string): unknown; [key: symbol]: unknown } | undefined;
  const asJson = internals[symbols.asJsonSym] as ((obj: object, msg: string, level: number, time: string) => string) | undefined;
  const timestamp = internals[symbols.timeSym] as (() => string) | undefined;
  const levelPrefix = (internals[symbols.lsCacheSym] as Record<number, string> | undefined)?.[30];
  if (!stream || stream[symbols.needsMetadataGsym] || internals[symbols.mixinSym] || !asJson || !timestamp || levelPrefix === undefined) return generic;

  // Fields whose alphabet cannot hold anything JSON escapes (see the interface) are quoted as they
  // are; jsonString() for the fields a client or an admin can put text into. The same email comes
  // again and again (a script's key), so its JSON form is kept from the previous line.
  const chindings = internals[symbols.chindingsSym] as string;
  const end = ',"msg":"request"' + (internals[symbols.endSym] as string);
  let lastEmail = "";
  let lastEmailJson = '""';
  const format = (entry: AccessLogEntry, time: string): string => {
    let line = levelPrefix + time + chindings + ',"requestId":"' + entry.requestId + '"';
    if (entry.method !== undefined) line += ',"method":"' + entry.method + '"';
    if (entry.path !== undefined) line += ',"path":' + (KNOWN_ROUTES.has(entry.path) ? '"' + entry.path + '"' : jsonString(entry.path));
    line += ',"status":' + entry.status + ',"durationMs":' + entry.durationMs + ',"clientIp":"' + entry.clientIp + '"';
    if (entry.userId !== undefined) line += ',"userId":' + entry.userId;
    if (entry.email !== undefined) {
      if (entry.email !== lastEmail) {
        lastEmail = entry.email;
        lastEmailJson = jsonString(entry.email);
      }
      line += ',"email":' + lastEmailJson;
    }
    if (entry.authMethod !== undefined) line += ',"authMethod":"' + entry.authMethod + '"';
    if (entry.keyId !== undefined) line += ',"keyId":' + entry.keyId;
    if (entry.authFailure !== undefined) line += ',"authFailure":"' + entry.authFailure + '"';
    if (entry.operationName !== undefined) line += ',"operationName":"' + entry.operationName + '"';
    if (entry.operationType !== undefined) line += ',"operationType":"' + entry.operationType + '"';
    if (entry.throttled !== undefined) line += ',"throttled":' + entry.throttled;
    return line + end;
  };
  const time = ',"time":"2026-01-01T00:00:00.000Z"';
  if (!ACCESS_LOG_SAMPLES.every((sample) => asJson.call(logger, sample, "request", 30, time) === format(sample, time))) return generic;

  return (entry) => {
    if (logger.isLevelEnabled("info")) stream.write(format(entry, timestamp()));
  };
}

/** Every field set, the sparse shape of a failure, and strings that need escaping. */
export const ACCESS_LOG_SAMPLES: AccessLogEntry[] = [
  {
    requestId: "0b7c1f36-5d43-4f43-9f55-0d6c1c0f8f7e",
    method: "POST",
    path: "/graphql",
    status: 200,
    durationMs: 1.234,
    clientIp: "127.0.0.1",
    userId: 7,
    email: "ada@example.org",
    authMethod: "apikey",
    keyId: 42,
    operationName: "Me",
    operationType: "query",
  },
  { requestId: "r", method: "GET", path: '/a"b\\c\u0001\u2028', status: 429, durationMs: 0, clientIp: "::1", authFailure: "INVALID", throttled: true },
];

/** What JSON.stringify would escape in a string (lone surrogates included, so any surrogate). */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON.stringify(value) for a string, without calling it for the common case: the access line's
 * strings (ids, paths, addresses, emails, GraphQL names) rarely hold anything to escape, and
 * JSON.stringify per field was most of the cost of formatting the line.
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}
