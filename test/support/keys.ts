import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { API_KEY_PREFIX, generateApiKey, type GeneratedKey } from "../../src/keys/api-key-format";

/** For format and parsing tests: keys under a fixed tag secret, as one server would issue them. */
export const TEST_TAG_SECRET = Buffer.alloc(32, 7);
export const issueTestKey = (): GeneratedKey => generateApiKey(TEST_TAG_SECRET);

/** Well formed, valid checksum, tagged under a secret no server has: what an attacker can make. */
export const madeUpKey = (): string => generateApiKey(randomBytes(32)).key;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `text` + its CRC32 in six base62 characters, computed here independently of the code under test. */
export function withChecksum(text: string): string {
  let crc = crc32(text) >>> 0;
  let checksum = "";
  for (let i = 0; i < 6; i++) {
    checksum = BASE62[crc % 62] + checksum;
    crc = Math.floor(crc / 62);
  }
  return text + checksum;
}

/** A key of the format before tags: prefix, 43 random base62 characters, checksum (53 characters). */
export function untaggedKey(): string {
  return withChecksum(API_KEY_PREFIX + Array.from(randomBytes(43), (byte) => BASE62[byte % 62]).join(""));
}
