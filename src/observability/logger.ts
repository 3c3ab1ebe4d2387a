import fs from "node:fs";
import pino, { type DestinationStream, type Logger } from "pino";
import SonicBoom from "sonic-boom";
import type { LogLevel } from "../config";

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
 * Where log lines go: with `bufferBytes` > 0 they are collected and written in one call once about
 * that many bytes wait, or every `flushIntervalMs`, and synchronously on exit; 0 writes each line
 * synchronously as it is logged. One write per request line cost more than the rest of the access log.
 */
export function createLogDestination(dest: number | string, options: { bufferBytes: number; flushIntervalMs: number }): DestinationStream {
  // Opened now, not asynchronously: an exit before an asynchronous open would lose the buffer.
  const fd = typeof dest === "string" ? fs.openSync(dest, "a") : dest;
  if (options.bufferBytes <= 0) return pino.destination({ dest: fd, sync: true });
  return new BufferedDestination(new SonicBoom({ fd, sync: true }), options.bufferBytes, options.flushIntervalMs);
}

/**
 * Collects lines in an array and hands sonic-boom one string per batch, written synchronously
 * (retried on EAGAIN). A line then costs an array push; a batch one write system call:
 * - sonic-boom's own buffering (`minLength`) appends every line to one growing string and
 *   measures that string's byte length again on each write, so its cost per line grew with the
 *   buffer;
 * - an asynchronous write goes through libuv's thread pool (a hand-off and a wake-up each way),
 *   which cost more CPU than the write itself. pino writes synchronously by default too.
 */
export class BufferedDestination implements DestinationStream {
  private lines: string[] = [];
  private size = 0;
  /** After end(), or after a failed write: lines are dropped. */
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = () => {
    try {
      this.flushSync();
    } catch {
      // Exiting anyway; a log line is not worth an exception in an exit handler.
    }
  };

  constructor(
    private readonly sink: SonicBoom,
    private readonly bufferBytes: number,
    flushIntervalMs: number,
  ) {
    this.timer = setInterval(() => this.drain(), flushIntervalMs).unref();
    // A failed log write (the reader of a pipe went away, a full disk) must not take the service
    // down: the lines are dropped, and the failure is reported once on stderr.
    sink.once("error", (error: NodeJS.ErrnoException) => {
      this.closed = true;
      process.emitWarning(`log lines dropped: ${error.code ?? error.message}`);
      sink.on("error", () => {});
    });
    process.on("exit", this.onExit);
  }

  write(line: string): void {
    if (this.closed) return;
    this.lines.push(line);
    // Characters, not bytes: the threshold is a batch size, not a limit.
    this.size += line.length;
    if (this.size >= this.bufferBytes) this.drain();
  }

  /** Writes what waits, then calls back once it is on its way to the file (pino's logger.flush). */
  flush(callback?: (error?: Error) => void): void {
    this.drain();
    this.sink.flush(callback);
  }

  flushSync(): void {
    this.drain();
    if (!this.closed) this.sink.flushSync();
  }

  end(): void {
    clearInterval(this.timer);
    process.off("exit", this.onExit);
    if (this.closed) return;
    this.drain();
    this.closed = true;
    this.sink.end();
  }

  private drain(): void {
    if (this.lines.length === 0 || this.closed) return;
    const text = this.lines.length === 1 ? this.lines[0] : this.lines.join("");
    this.lines = [];
    this.size = 0;
    this.sink.write(text);
  }
}

let stampedAt = Number.NaN;
let stamp = "";
let secondStartedAt = Number.NaN;
let secondPrefix = "";
/**
 * pino's isoTime (`,"time":"<ISO 8601>"`), formatted at most once per millisecond, and the date
 * and time up to the second at most once per second: every request writes an access line, and a
 * Date and its ISO string per line were a measurable part of a request's cost.
 */
export function isoTimestamp(): string {
  return formatTimestamp(Date.now());
}

export function formatTimestamp(epochMs: number): string {
  if (epochMs !== stampedAt) {
    const ms = ((epochMs % 1000) + 1000) % 1000;
    const secondStart = epochMs - ms;
    if (secondStart !== secondStartedAt) {
      secondStartedAt = secondStart;
      const iso = new Date(secondStart).toISOString(); // …T21:46:40.000Z
      secondPrefix = `,"time":"${iso.slice(0, iso.length - 4)}`;
    }
    stampedAt = epochMs;
    stamp = secondPrefix + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms + 'Z"';
  }
  return stamp;
}
