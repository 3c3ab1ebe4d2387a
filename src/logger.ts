import fs from "node:fs";
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

/**
 * Where log lines go: with `bufferBytes` > 0 they are collected and written in one call once that
 * many bytes wait, or every `flushIntervalMs`, and synchronously on exit (pino registers the
 * flush); 0 writes each line synchronously as it is logged. One write per request line cost more
 * than the rest of the access log.
 */
export function createLogDestination(dest: number | string, options: { bufferBytes: number; flushIntervalMs: number }): DestinationStream {
  // Opened now, not asynchronously: an exit before an asynchronous open would lose the buffer.
  const fd = typeof dest === "string" ? fs.openSync(dest, "a") : dest;
  if (options.bufferBytes <= 0) return pino.destination({ dest: fd, sync: true });
  return pino.destination({ dest: fd, sync: false, minLength: options.bufferBytes, periodicFlush: options.flushIntervalMs });
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
