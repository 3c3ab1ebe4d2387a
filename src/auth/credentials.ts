import { isUtf8 } from "node:buffer";

/**
 * Turns request headers into the credentials they claim, without touching the database.
 * Never throws: every malformed input becomes `{ kind: "malformed" }`.
 */
export type Credentials =
  | { kind: "none" }
  | { kind: "apikey"; key: string; via: "basic" | "header" }
  | { kind: "password"; email: string; password: string }
  /** A login session's cookie value: made by the HTTP layer (src/http/cookies.ts), only when no header credentials came. */
  | { kind: "session"; token: string }
  | { kind: "malformed"; mistake?: "BEARER_SCHEME" };

export interface CredentialHeaders {
  authorization?: string;
  apikey?: string;
}

/** Far above any real key or password, far below anything that could cost real work. */
export const MAX_CREDENTIAL_HEADER_LENGTH = 4096;
const API_KEY_USERNAME = "apikey";

export function parseCredentials(headers: CredentialHeaders): Credentials {
  // Basic wins when both are sent: it is what .netrc-driven clients produce.
  if (headers.authorization !== undefined) return parseAuthorization(headers.authorization);
  if (headers.apikey !== undefined) {
    const key = headers.apikey.trim();
    if (!key || key.length > MAX_CREDENTIAL_HEADER_LENGTH) return { kind: "malformed" };
    return { kind: "apikey", key, via: "header" };
  }
  return { kind: "none" };
}

/**
 * The scheme (any case) and a token of canonical base64, in one pass. No /i flag: it would also
 * fold the case of the base64 letters. Canonical: only the alphabet, and padding only where the
 * last character's unused bits are zero (`[AEIMQUYcgkosw048]=`, `[AQgw]==`), so every accepted
 * token is the one encoding of its bytes; Node's own decoder would skip stray characters, accept
 * base64url and missing padding, which re-encode to a different string.
 */
const BASIC_HEADER = /^\s*[Bb][Aa][Ss][Ii][Cc]\s+([A-Za-z0-9+/]*(?:[AEIMQUYcgkosw048]=|[AQgw]==)?)\s*$/;
const BEARER_HEADER = /^\s*bearer(\s|$)/i;
const CANONICAL_BASE64 = /^[A-Za-z0-9+/]*(?:[AEIMQUYcgkosw048]=|[AQgw]==)?$/;
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
// Control characters have no place in an email, password or key.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function parseAuthorization(header: string): Credentials {
  if (header.length > MAX_CREDENTIAL_HEADER_LENGTH) return { kind: "malformed" };
  const match = BASIC_HEADER.exec(header);
  if (!match && BEARER_HEADER.test(header)) return { kind: "malformed", mistake: "BEARER_SCHEME" };
  if (!match) return { kind: "malformed" };
  const decoded = decodeCanonicalBase64(match[1]);
  if (decoded === null) return { kind: "malformed" };
  const colon = decoded.indexOf(":");
  if (colon < 0) return { kind: "malformed" };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (!username || !password) return { kind: "malformed" };
  if (username.toLowerCase() === API_KEY_USERNAME) return { kind: "apikey", key: password, via: "basic" };
  return { kind: "password", email: username, password };
}

/** Refuses anything but canonical base64 of UTF-8 text without control characters. */
export function decodeBase64Strict(encoded: string): string | null {
  return CANONICAL_BASE64.test(encoded) ? decodeCanonicalBase64(encoded) : null;
}

/** `encoded` is known to hold only the alphabet and canonical padding. */
function decodeCanonicalBase64(encoded: string): string | null {
  if (encoded.length === 0 || encoded.length % 4 !== 0) return null;
  const bytes = Buffer.from(encoded, "base64");
  // Printable ASCII (every key, nearly every email and password) reads the same as Latin-1 and as
  // UTF-8, and holds no control character: one cheap decode, no UTF-8 validation.
  const latin1 = bytes.toString("latin1");
  if (!NOT_PRINTABLE_ASCII.test(latin1)) return latin1;
  if (!isUtf8(bytes)) return null;
  const text = bytes.toString("utf8");
  return CONTROL_CHARACTER.test(text) ? null : text;
}
