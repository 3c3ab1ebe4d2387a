import crypto, { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * Key layout: `xta_` + 43 base62 characters (32 bytes = 256 bits from the OS CSPRNG) + 8 base62
 * characters of tag + 6 base62 characters of CRC32 over everything before them: 61 characters.
 * - The prefix lets secret scanners find leaked keys.
 * - The checksum is public: a scanner, or the server, refuses a mistyped key without any lookup.
 * - The tag is an HMAC-SHA256 of prefix and body under this server's secret (src/keys/key-tags.ts):
 *   only this server can make a key that passes it, so a made-up key, however well formed, is
 *   refused without touching the database. Attack traffic costs a hash and an HMAC, never SQL.
 * Keys issued before tags existed are 53 characters (no tag); they still work (key-tags.ts).
 * Base62 keeps the key URL- and shell-safe and selectable with one double-click.
 */
export const API_KEY_PREFIX = "xta_";
export const LEGACY_PREFIX = "apikey|";
const SECRET_BYTES = 32;
const BODY_LENGTH = 43; // 62^43 > 2^256
const TAG_LENGTH = 8; // 62^8 ≈ 2^47.6: a blind guess passes once in 2.2e14 tries
const TAG_MODULUS = 62 ** TAG_LENGTH; // below 2^53: exact integer arithmetic
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
export const API_KEY_LENGTH = API_KEY_PREFIX.length + BODY_LENGTH + TAG_LENGTH + CHECKSUM_LENGTH;
/** Keys issued before the tag: prefix, body and checksum. */
export const UNTAGGED_KEY_LENGTH = API_KEY_LENGTH - TAG_LENGTH;
const HINT_BODY_CHARS = 4;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}(?:[0-9A-Za-z]{${UNTAGGED_KEY_LENGTH - API_KEY_PREFIX.length}}|[0-9A-Za-z]{${API_KEY_LENGTH - API_KEY_PREFIX.length}})$`);

export interface GeneratedKey {
  /** The secret: handed to the user once, never stored. */
  key: string;
  /** What the database stores and looks up. */
  hash: string;
  /** A non-secret reminder of which key this is, e.g. `xta_7fQz…`. */
  hint: string;
}

/** `tagged`: false for a key of the format before tags (53 characters). */
export type ParsedKey = { ok: true; key: string; tagged: boolean } | { ok: false; reason: "LEGACY_PREFIX" | "MALFORMED" };

/** `tagSecret`: the server's key-tag secret (KeyTags); a key made under another secret is refused as unknown. */
export function generateApiKey(tagSecret: Buffer): GeneratedKey {
  const signed = API_KEY_PREFIX + encodeBase62(randomBytes(SECRET_BYTES), BODY_LENGTH);
  const unchecked = signed + tagOf(signed, tagSecret);
  const key = unchecked + checksumOf(unchecked);
  return { key, hash: hashApiKey(key), hint: hintOf(key) };
}

/** Checks shape and checksum only; says nothing about whether the key exists or carries a valid tag. */
export function parseApiKey(candidate: string): ParsedKey {
  if (candidate.startsWith(LEGACY_PREFIX)) return { ok: false, reason: "LEGACY_PREFIX" };
  if ((candidate.length !== API_KEY_LENGTH && candidate.length !== UNTAGGED_KEY_LENGTH) || !KEY_PATTERN.test(candidate)) return { ok: false, reason: "MALFORMED" };
  // A plain comparison: the checksum is a public function of the candidate, so its timing tells
  // the sender nothing they could not compute themselves. The secret is compared by its hash.
  if (checksumOf(candidate.slice(0, -CHECKSUM_LENGTH)) !== candidate.slice(-CHECKSUM_LENGTH)) return { ok: false, reason: "MALFORMED" };
  return { ok: true, key: candidate, tagged: candidate.length === API_KEY_LENGTH };
}

/**
 * Whether a parsed, tagged key carries the tag this secret gives its body. Compared in constant
 * time: a timing leak would let a sender find a body's tag character by character.
 */
export function hasValidTag(key: string, tagSecret: Buffer): boolean {
  if (key.length !== API_KEY_LENGTH) return false;
  const signedLength = API_KEY_PREFIX.length + BODY_LENGTH;
  const expected = Buffer.from(tagOf(key.slice(0, signedLength), tagSecret), "latin1");
  const actual = Buffer.from(key.slice(signedLength, signedLength + TAG_LENGTH), "latin1");
  return timingSafeEqual(expected, actual);
}

function tagOf(signed: string, tagSecret: Buffer): string {
  const mac = createHmac("sha256", tagSecret).update(signed, "latin1").digest();
  return encodeBase62Integer(mac.readUIntBE(0, 6) % TAG_MODULUS, TAG_LENGTH);
}

/**
 * A fast hash is right here: the key carries 256 random bits, so no dictionary or brute force
 * can reach it, and a slow hash (bcrypt) would only cap authentication at a few per second.
 */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

// crypto.hash (Node 20.12+) is the one-shot form: no Hash object per request.
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (text) => (crypto as unknown as { hash(algorithm: string, data: string, encoding: "hex"): string }).hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text, "utf8").digest("hex");

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

export function hintOf(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + HINT_BODY_CHARS) + "…";
}

/** Checked on every request, so plain integer arithmetic: a CRC32 is exact in a double. */
function checksumOf(text: string): string {
  return encodeBase62Integer(crc32(text) >>> 0, CHECKSUM_LENGTH);
}

function encodeBase62Integer(integer: number, width: number): string {
  let value = integer;
  let out = "";
  for (let i = 0; i < width; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function encodeBase62(bytes: Buffer, width: number): string {
  let value = BigInt("0x" + (bytes.toString("hex") || "0"));
  let out = "";
  for (let i = 0; i < width; i++) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  if (value !== 0n) throw new RangeError("value does not fit the requested base62 width");
  return out;
}
