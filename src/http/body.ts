import type { IncomingMessage } from "node:http";
import { BadRequestError } from "../errors";

/** The request body as GraphQL takes it: parsed JSON for JSON content types, else the text; undefined on GET. */
export type BodyResult = { ok: true; body: unknown } | { ok: false; error: BadRequestError };

/**
 * Synchronous for a GET (no body); for a POST one promise, which settles with the parsed body:
 * parsing inside the stream's end event spares the request path a second promise.
 */
export function readGraphQLBody(req: IncomingMessage, maxBytes: number): BodyResult | Promise<BodyResult> {
  if (req.method !== "POST") return { ok: true, body: undefined };
  const json = /\bjson\b/i.test(req.headers["content-type"] ?? ""); // application/json, application/graphql-response+json…
  return readBody(req, maxBytes, (text) => (text === undefined ? { ok: false, error: new BadRequestError(`Request body is larger than ${maxBytes} bytes.`, 413) } : json ? parseJson(text) : { ok: true, body: text }));
}

function parseJson(text: string): BodyResult {
  try {
    return { ok: true, body: text === "" ? {} : JSON.parse(text) };
  } catch {
    return { ok: false, error: new BadRequestError("Request body is not valid JSON.") };
  }
}

/** The whole body as text handed to `finish`, or undefined once it passes `limit` bytes (the rest is drained, not kept). */
export function readBody<T>(req: IncomingMessage, limit: number, finish: (text: string | undefined) => T): Promise<T> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(finish(undefined));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        req.resume(); // drain the rest without keeping it
        resolve(finish(undefined));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!settled) {
        settled = true;
        resolve(finish((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString("utf8")));
      }
    });
    req.on("error", (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
  });
}
