import pino, { type DestinationStream, type Logger } from "pino";

/** A log destination that keeps every line written to it, for tests that read what was logged. */
export function captureLogs(): { lines: string[]; stream: DestinationStream } {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

/** A plain pino logger at `level` whose lines land in `lines`. */
export function capturingLogger(level: pino.LevelWithSilent = "warn"): { logger: Logger; lines: string[] } {
  const { lines, stream } = captureLogs();
  return { logger: pino({ level }, stream), lines };
}
