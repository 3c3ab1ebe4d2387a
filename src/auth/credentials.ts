import { isUtf8 } from "node:buffer";

/**
 * Turns request headers into the credentials they claim, without touching the database.
 * Never throws: every malformed input becomes `{ kind: "malformed" }`.
 */
export type Credentials =
  | { kind: "none" }
  | { kind: "apikey"; key: string; via: "basic" | "header" }
  | { kind: "password"; email: string; password: string }
  | { kind: "malformed" };

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

function parseAuthorization(header: string): Credentials {
  if (header.length > MAX_CREDENTIAL_HEADER_LENGTH) return { kind: "malformed" };
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return { kind: "malformed" };
  const decoded = decodeBase64Strict(match[1]);
  if (decoded === null) return { kind: "malformed" };
  const colon = decoded.indexOf(":");
  if (colon < 0) return { kind: "malformed" };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (!username || !password) return { kind: "malformed" };
  if (username.toLowerCase() === API_KEY_USERNAME) return { kind: "apikey", key: password, via: "basic" };
  return { kind: "password", email: username, password };
}

/**
 * Refuses anything that does not round-trip, including bytes that are not UTF-8. The round trip
 * alone is the strict check: Node's decoder skips characters outside the alphabet and accepts
 * base64url and missing padding, and each of those re-encodes to a different string.
 */
export function decodeBase64Strict(encoded: string): string | null {
  if (encoded.length === 0 || encoded.length % 4 !== 0) return null;
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.toString("base64") !== encoded) return null;
  if (!isUtf8(bytes)) return null;
  const text = bytes.toString("utf8");
  // Control characters have no place in an email, password or key.
  if (/[\u0000-\u001f\u007f]/.test(text)) return null;
  return text;
}
