import { createHash } from "node:crypto";
import { access, readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Logger } from "pino";
import { DOCUMENT_HEADERS, withHeaders } from "./responses";

/** The paths of the web app (client-side routing): each answers index.html. */
export const PAGE_PATHS: ReadonlySet<string> = new Set(["/", "/login", "/access", "/settings", "/account", "/admin/keys", "/admin/users"]);

/** Vite's build output: files with a content hash in their names, so they never change under one URL. */
export const ASSET_PREFIX = "/assets/";

/**
 * The pages' Content-Security-Policy: the service's own scripts, styles, images and fonts, GraphQL
 * on the same origin, no inline script or style, never framed.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_CACHE = "no-cache";
const ASSET_CACHE = "public, max-age=31536000, immutable";
const ALLOWED = ["allow", "GET, HEAD"];

/** A directory that is not a page build should not fill the memory: the pages' build is far below these. */
const MAX_ASSET_FILES = 2_000;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const MAX_ASSET_DEPTH = 4;

export const NOT_BUILT_MESSAGE = "The web pages are not built. Run `npm run build:web` (or `npm run build`), then restart the server.\n";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".wasm": "application/wasm",
  ".webmanifest": "application/manifest+json",
};

type Route = (req: IncomingMessage, res: ServerResponse, headers: readonly string[]) => Promise<void>;

export interface StaticPages {
  /** The directory the pages were read from. */
  directory: string;
  /** False when it held no index.html: page paths then answer 503. */
  built: boolean;
  /** GET/HEAD of a page path: index.html, revalidated on every visit. */
  page: Route;
  /** GET/HEAD of `/assets/…` (`pathname` as the URL parser left it): the file, cached for a year. */
  asset(req: IncomingMessage, res: ServerResponse, pathname: string, headers: readonly string[]): Promise<void>;
}

interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * `dist/web` under the package root: the nearest folder above this module that holds package.json
 * (src/http under ts-node and jest, dist/src/http once compiled).
 */
export async function defaultWebDir(from: string = __dirname): Promise<string> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (await exists(path.join(dir, "package.json"))) return path.join(dir, "dist", "web");
    if (path.dirname(dir) === dir) return path.resolve("dist", "web");
  }
}

/**
 * Reads the built pages once (index.html and every file under assets/) and answers from memory:
 * no file system work per request, and only files found at startup can be served, whatever the
 * path asks for. Without index.html the server still starts; page paths say what to run.
 */
export async function createStaticPages({ directory, logger }: { directory?: string; logger: Logger }): Promise<StaticPages> {
  const root = path.resolve(directory ?? (await defaultWebDir()));
  const index = await readIndex(root);
  const assets = await readAssets(path.join(root, "assets"));
  if (!index) logger.warn({ webDir: root }, "the web pages are not built (no index.html): page paths answer 503 until `npm run build:web` has run and the server restarts");

  const pageHeaders = (headers: readonly string[]) =>
    [...withHeaders(headers, { "cache-control": PAGE_CACHE, "content-security-policy": PAGE_CSP }), ...DOCUMENT_HEADERS];
  const assetHeaders = (headers: readonly string[]) => withHeaders(headers, { "cache-control": ASSET_CACHE });

  return {
    directory: root,
    built: index !== null,
    async page(req, res, headers) {
      if (!readable(req)) return refuseMethod(res, headers);
      if (!index) return sendText(res, 503, NOT_BUILT_MESSAGE, headers, req.method === "HEAD");
      sendFile(req, res, index, pageHeaders(headers));
    },
    async asset(req, res, pathname, headers) {
      if (!readable(req)) return refuseMethod(res, headers);
      const file = assets.get(decodedPath(pathname));
      if (!file) return sendText(res, 404, "Not found.\n", headers, req.method === "HEAD");
      sendFile(req, res, file, assetHeaders(headers));
    },
  };
}

function readable(req: IncomingMessage): boolean {
  return req.method === "GET" || req.method === "HEAD";
}

function refuseMethod(res: ServerResponse, headers: readonly string[]): void {
  sendText(res, 405, "Method not allowed: pages and assets answer GET and HEAD.\n", [...headers, ...ALLOWED], false);
}

function sendText(res: ServerResponse, status: number, text: string, headers: readonly string[], head: boolean): void {
  res.writeHead(status, [...headers, "content-type", "text/plain; charset=utf-8", "content-length", String(Buffer.byteLength(text))]);
  res.end(head ? undefined : text);
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: StaticFile, headers: string[]): void {
  headers.push("etag", file.etag);
  if (matchesEtag(req.headers["if-none-match"], file.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers.push("content-type", file.contentType, "content-length", String(file.body.length));
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : file.body);
}

/** If-None-Match: `*` or a list of tags, weak or strong (a GET compares them weakly). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

async function readIndex(root: string): Promise<StaticFile | null> {
  try {
    return fileOf(await readFile(path.join(root, "index.html")), ".html");
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** Every regular file under `dir`, keyed by its decoded URL path (/assets/<name>, subfolders joined by /). */
async function readAssets(dir: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  let totalBytes = 0;
  const walk = async (folder: string, urlPath: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error) && depth === 0) return;
      throw error;
    }
    for (const entry of entries) {
      // Symbolic links are not followed: only what the build wrote is served.
      const url = urlPath + entry.name;
      if (entry.isDirectory() && depth < MAX_ASSET_DEPTH) await walk(path.join(folder, entry.name), url + "/", depth + 1);
      if (!entry.isFile()) continue;
      const body = await readFile(path.join(folder, entry.name));
      totalBytes += body.length;
      if (files.size >= MAX_ASSET_FILES || totalBytes > MAX_TOTAL_BYTES) {
        throw new Error(`${dir} holds more than ${MAX_ASSET_FILES} files or ${MAX_TOTAL_BYTES / 1024 / 1024} MiB: is WEB_DIR the pages' build (dist/web)?`);
      }
      files.set(url, fileOf(body, path.extname(entry.name).toLowerCase()));
    }
  };
  await walk(dir, ASSET_PREFIX, 0);
  return files;
}

/** The path with its %-escapes decoded ("" when they are malformed: no file has that name). */
function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return "";
  }
}

function fileOf(body: Buffer, extension: string): StaticFile {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { body, contentType: CONTENT_TYPES[extension] ?? "application/octet-stream", etag };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
