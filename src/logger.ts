import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config";

/** Headers that may carry a secret; pino replaces them before a line is written. */
export const REDACTED_PATHS = ["req.headers.authorization", "req.headers.apikey", "req.headers.cookie", "headers.authorization", "headers.apikey", "password", "key"];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "external-tool-access" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    destination,
  );
}
