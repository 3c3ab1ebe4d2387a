import http, { type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { BadRequestError } from "../errors";
import { errorBody, SECURITY_HEADERS } from "./responses";

/** Keeps a 100 KB Authorization header answerable with a clean 401 instead of Node's 431. */
const MAX_HEADER_BYTES = 256 * 1024;

export interface HttpServer {
  server: http.Server;
  /** Resolves with the bound port (pass port 0 for any free one). */
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/** node:http with the service's timeouts and clean answers to requests Node itself cannot parse. */
export function createHttpServer(listener: RequestListener): HttpServer {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, listener);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  // Node answers its own parse errors (bad request line, oversize headers) here; keep them clean too.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const body = errorBody(status === 431 ? new BadRequestError("Request headers too large.", 431) : new BadRequestError("Malformed HTTP request."));
    const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`);
  });
  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({ port: address.port, url: `http://${shownHost}:${address.port}/graphql` });
    });
  });
}
