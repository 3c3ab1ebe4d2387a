import { randomBytes } from "node:crypto";
import { generateApiKey, type GeneratedKey } from "../../src/auth/api-key-format";

/** For format and parsing tests: keys under a fixed tag secret, as one server would issue them. */
export const TEST_TAG_SECRET = Buffer.alloc(32, 7);
export const issueTestKey = (): GeneratedKey => generateApiKey(TEST_TAG_SECRET);

/** Well formed, valid checksum, tagged under a secret no server has: what an attacker can make. */
export const madeUpKey = (): string => generateApiKey(randomBytes(32)).key;
