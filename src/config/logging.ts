import type { EnvReader } from "./env-reader";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const LOG_LEVELS: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface LoggingConfig {
  logLevel: LogLevel;
  /**
   * Log lines are collected up to this many bytes before one write (0: every line is written
   * synchronously as it is logged). Buffered lines are flushed at least every logFlushIntervalMs
   * and on exit.
   */
  logBufferBytes: number;
  logFlushIntervalMs: number;
}

export function readLoggingConfig(env: EnvReader): LoggingConfig {
  const level = (env.text("LOG_LEVEL")?.toLowerCase() || "info") as LogLevel;
  if (!LOG_LEVELS.includes(level)) env.problem(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.env.LOG_LEVEL}"`);
  return {
    logLevel: LOG_LEVELS.includes(level) ? level : "info",
    logBufferBytes: env.integer("LOG_BUFFER_BYTES", 4096, 0, 16_000),
    logFlushIntervalMs: env.integer("LOG_FLUSH_INTERVAL_MS", 1000, 10, 60_000),
  };
}
