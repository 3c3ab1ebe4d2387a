import type { IncomingMessage } from "node:http";
import type { BrowserCookies } from "../auth/context.type";

/**
 * The session and device cookies on the wire. Over HTTPS (COOKIE_SECURE, or X-Forwarded-Proto
 * https from a trusted proxy) they carry Secure and the `__Host-` prefix, which a browser accepts
 * only from a secure origin, with Path=/ and no Domain: no sibling subdomain or plain-HTTP
 * response can plant or overwrite them. Only the name that fits the request is read.
 */
export const SESSION_COOKIE = "xta_session";
export const DEVICE_COOKIE = "xta_device";
const SECURE_PREFIX = "__Host-";
/** Far above our cookies (61 and about 60 characters). */
const MAX_COOKIE_VALUE = 256;

export interface CookiePolicy {
  /** COOKIE_SECURE: every cookie Secure and `__Host-`, whatever the request says. */
  secure: boolean;
  /** TRUST_PROXY: how many proxies' X-Forwarded-* headers are believed. */
  trustProxy: number;
  /** CORS_ORIGINS: the only other origins whose requests may use a cookie. */
  corsOrigins: readonly string[];
}

/** The value of cookie `name` in a Cookie header (RFC 6265 `name=value; name2=value2`), if any. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let from = 0;
  while (from < header.length) {
    let end = header.indexOf(";", from);
    if (end < 0) end = header.length;
    const eq = header.indexOf("=", from);
    if (eq > from && eq < end && header.slice(from, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value.length > 0 && value.length <= MAX_COOKIE_VALUE ? value : undefined;
    }
    from = end + 1;
  }
  return undefined;
}

export interface CookieAttributes {
  secure: boolean;
  /** Omitted: a browser-session cookie. 0: delete. */
  maxAgeSeconds?: number;
  sameSite: "Lax" | "Strict";
}

/** One Set-Cookie value. Values are ours (base62 and `._-`), never user input. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  const parts = [`${attributes.secure ? SECURE_PREFIX : ""}${name}=${value}`, "Path=/", "HttpOnly", `SameSite=${attributes.sameSite}`];
  if (attributes.secure) parts.push("Secure");
  if (attributes.maxAgeSeconds !== undefined) parts.push(`Max-Age=${attributes.maxAgeSeconds}`);
  return parts.join("; ");
}

/** Whether this request's cookies are the Secure ones. */
export function isSecureRequest(req: IncomingMessage, policy: CookiePolicy): boolean {
  if (policy.secure) return true;
  if (policy.trustProxy <= 0) return false;
  return trustedForwarded(req.headers["x-forwarded-proto"], policy.trustProxy)?.toLowerCase() === "https";
}

/**
 * Whether a cookie may authenticate this request. Browsers send cookies with cross-site
 * requests (SameSite=Lax still allows top-level GET navigation), so a request whose Origin is
 * neither this server's own nor one listed in CORS_ORIGINS is answered as if it carried none.
 * `*` in CORS_ORIGINS never counts: it is for credential-less reads. Sec-Fetch-Site, sent by
 * current browsers, refuses cross-site requests that arrive without an Origin.
 */
export function mayUseCookies(req: IncomingMessage, policy: CookiePolicy): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers["sec-fetch-site"] !== "cross-site";
  if (typeof origin !== "string" || origin === "null") return false;
  const bare = origin.replace(/\/$/, "");
  if (policy.corsOrigins.includes(bare)) return true;
  let host: string;
  try {
    host = new URL(bare).host;
  } catch {
    return false;
  }
  const requestHost = (policy.trustProxy > 0 ? trustedForwarded(req.headers["x-forwarded-host"], policy.trustProxy) : undefined) ?? req.headers.host;
  return requestHost !== undefined && host.toLowerCase() === requestHost.toLowerCase();
}

/** The entry our n-th proxy wrote (the n-th from the right), as with X-Forwarded-For. */
function trustedForwarded(header: string | string[] | undefined, trustProxy: number): string | undefined {
  const raw = Array.isArray(header) ? header.join(",") : header;
  if (!raw) return undefined;
  const hops = raw.split(",").map((entry) => entry.trim()).filter(Boolean);
  return hops.length === 0 ? undefined : hops[Math.max(0, hops.length - trustProxy)];
}

/**
 * The cookies of one GraphQL request, as resolvers see them (BrowserCookies): what the request
 * carried, and the Set-Cookie lines the response will carry.
 */
export class RequestCookies implements BrowserCookies {
  readonly setCookies: string[] = [];
  /** Whether login or logout used them: a browser's request, so no Basic challenge on its 401. */
  touched = false;
  private secureCache: boolean | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly policy: CookiePolicy,
  ) {}

  get device(): string | undefined {
    this.touched = true;
    return readCookie(this.req.headers.cookie, cookieName(DEVICE_COOKIE, this.secure));
  }

  get userAgent(): string | undefined {
    return this.req.headers["user-agent"];
  }

  /** Worked out only when a resolver touches cookies: most requests never do. */
  private get secure(): boolean {
    return (this.secureCache ??= isSecureRequest(this.req, this.policy));
  }

  startSession(token: string): void {
    this.touched = true;
    this.setCookies.push(serializeCookie(SESSION_COOKIE, token, { secure: this.secure, sameSite: "Lax" }));
  }

  endSession(): void {
    this.touched = true;
    this.setCookies.push(clearedSessionCookie(this.req, this.policy));
  }

  setDevice(value: string, lifetimeMs: number): void {
    this.setCookies.push(serializeCookie(DEVICE_COOKIE, value, { secure: this.secure, sameSite: "Strict", maxAgeSeconds: Math.floor(lifetimeMs / 1000) }));
  }
}

export function cookieName(name: string, secure: boolean): string {
  return secure ? SECURE_PREFIX + name : name;
}

/** The session cookie's value, when the request carries one it may use. */
export function sessionCookieOf(req: IncomingMessage, policy: CookiePolicy): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  const token = readCookie(header, cookieName(SESSION_COOKIE, isSecureRequest(req, policy)));
  return token !== undefined && mayUseCookies(req, policy) ? token : undefined;
}

/** The Set-Cookie that deletes this request's session cookie. */
export function clearedSessionCookie(req: IncomingMessage, policy: CookiePolicy): string {
  return serializeCookie(SESSION_COOKIE, "", { secure: isSecureRequest(req, policy), sameSite: "Lax", maxAgeSeconds: 0 });
}
