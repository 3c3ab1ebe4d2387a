import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config";

/** Headers that may carry a secret; pino replaces them before a line is written. */
export const REDACTED_PATHS = ["req.headers.authorization", "req.headers.apikey", "req.headers.cookie", "headers.authorization", "headers.apikey", "password", "key"];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "external-tool-access" },
      timestamp: isoTimestamp,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    destination,
  );
}

let stampedAt = 0;
let stamp = "";
/**
 * pino's isoTime, formatted at most once per millisecond: every request writes an access line, and
 * building a Date and its ISO string per line was a measurable part of a request's cost.
 */
export function isoTimestamp(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}
