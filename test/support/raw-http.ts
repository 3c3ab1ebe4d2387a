import net from "node:net";

export interface RawResponse {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  text: string;
}

/**
 * Sends exact bytes over a fresh TCP connection (no client-side validation of methods, header
 * names or values) and reads until the server closes the connection or `timeoutMs` passes.
 * A timeout rejects: the server must always answer or close, never hang.
 */
export function rawRequest(port: number, bytes: Buffer | string, options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(String(bytes).slice(0, 600))}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : 0, text });
    };
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      // One complete response is enough: stop once headers and a Content-Length body have arrived.
      const text = Buffer.concat(chunks).toString("latin1");
      const headerEnd = text.indexOf("\r\n\r\n");
      if (headerEnd >= 0) {
        const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headerEnd));
        if (length && Buffer.byteLength(text.slice(headerEnd + 4), "latin1") >= Number(length[1])) {
          socket.destroy();
          finish();
        }
      }
    });
    socket.on("end", () => {
      socket.destroy();
      finish();
    });
    socket.on("error", () => finish()); // a reset after the answer (or instead of one) is fine
    socket.on("close", () => finish());
    // halfClose: send EOF after the bytes, like a client that gives up before the body it announced
    // (Node's server then aborts the request: it does not support half-open HTTP connections).
    if (options.halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** Runs `tasks` with at most `concurrency` in flight. */
export async function inPool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}
