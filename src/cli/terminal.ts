import type { Readable, Writable } from "node:stream";

export type InputStream = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

const MAX_STDIN_BYTES = 64 * 1024;

/** The first line of a piped stdin (a password from a file or another program). */
export function readFirstLine(stdin: InputStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stdin.on("data", (chunk: Buffer | string) => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size <= MAX_STDIN_BYTES) chunks.push(buffer);
    });
    stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? ""));
    stdin.on("error", reject);
  });
}

/** Reads a line from a TTY without echoing it. Ctrl-C or Ctrl-D abort (null). */
export function promptHidden(question: string, stdin: InputStream, stderr: OutputStream): Promise<string | null> {
  return new Promise((resolve) => {
    stderr.write(question);
    let answer = "";
    stdin.setRawMode?.(true);
    stdin.resume();
    const finish = (value: string | null) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of String(chunk)) {
        if (char === "\r" || char === "\n") return finish(answer);
        if (char === "\u0003" || char === "\u0004") return finish(null);
        if (char === "\u007f" || char === "\b") answer = [...answer].slice(0, -1).join("");
        else if (char >= " ") answer += char;
      }
    };
    stdin.on("data", onData);
  });
}

/** Reads one visible line (a confirmation). */
export function promptLine(question: string, stdin: InputStream, stderr: OutputStream): Promise<string | null> {
  return new Promise((resolve) => {
    stderr.write(question);
    let buffered = "";
    stdin.resume();
    const onEnd = () => finish(null);
    const finish = (value: string | null) => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      buffered += String(chunk);
      const newline = buffered.search(/\r?\n/);
      if (newline >= 0) finish(buffered.slice(0, newline));
    };
    stdin.on("data", onData);
    stdin.on("end", onEnd);
  });
}

/** A one-line progress bar on a TTY; silent elsewhere (pipes, CI logs). */
export class ProgressBar {
  private lastDrawn = 0;
  constructor(
    private readonly out: OutputStream,
    private readonly label: string,
  ) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.lastDrawn < 50) return; // at most 20 redraws a second
    this.lastDrawn = now;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - this.label.length - 30));
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * width);
    this.out.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${Math.round(fraction * 100)}%`);
  }

  finish(): void {
    if (this.enabled) this.out.write("\n");
  }
}

/** Left-aligned columns; cells are single-line. */
export function formatTable(headers: string[], rows: string[][]): string {
  const clean = (cell: string) => cell.replace(/[\r\n\t]+/g, " ");
  const all = [headers, ...rows.map((row) => row.map(clean))];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => [...(row[i] ?? "")].length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell + " ".repeat(widths[i] - [...cell].length))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...all.slice(1).map(line)].join("\n") + "\n";
}
