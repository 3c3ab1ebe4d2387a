import { createHmac, randomBytes } from "node:crypto";
import { API_KEY_LENGTH, API_KEY_PREFIX, generateKey, hashApiKey, hashesEqual, hasValidTag, hintOf, parseApiKey, UNTAGGED_KEY_LENGTH } from "../../src/keys/api-key-format";
import { issueTestKey, TEST_TAG_SECRET, untaggedKey, withChecksum } from "../support/keys";

describe("API key format", () => {
  test("generated key: prefix, base62 body, tag and checksum, 61 characters", () => {
    const { key } = issueTestKey();
    expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(key).toHaveLength(API_KEY_LENGTH);
    expect(API_KEY_LENGTH).toBe(61);
    expect(key).toMatch(/^xta_[0-9A-Za-z]+$/);
  });

  test("generated key carries at least 256 random bits: 43 base62 characters of body, then 8 of tag and 6 of checksum", () => {
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
    expect(API_KEY_LENGTH - API_KEY_PREFIX.length - 8 - 6).toBe(43);
  });

  test("a thousand generated keys are distinct, all parse as tagged and all carry a valid tag", () => {
    const keys = Array.from({ length: 1000 }, () => issueTestKey().key);
    expect(new Set(keys).size).toBe(1000);
    for (const key of keys) {
      expect(parseApiKey(key)).toEqual({ ok: true, key, tagged: true, kind: "api" });
      expect(hasValidTag(key, TEST_TAG_SECRET)).toBe(true);
    }
  });

  test("another server's secret: the tag does not pass", () => {
    const other = randomBytes(32);
    const keys = Array.from({ length: 200 }, () => issueTestKey().key);
    expect(keys.filter((key) => hasValidTag(key, other))).toEqual([]);
  });

  test("a changed tag or body fails the tag even with the checksum recomputed", () => {
    const { key } = issueTestKey();
    for (const position of [4, 20, 46, 47, 50, 54]) {
      const replacement = key[position] === "A" ? "B" : "A";
      const forged = withChecksum(key.slice(0, position) + replacement + key.slice(position + 1, API_KEY_LENGTH - 6));
      expect(parseApiKey(forged)).toEqual({ ok: true, key: forged, tagged: true, kind: "api" });
      expect(hasValidTag(forged, TEST_TAG_SECRET)).toBe(false);
    }
  });

  test("the tag, computed independently: HMAC-SHA256 of prefix and body, its first 48 bits mod 62^8 in base62 (keys already issued must keep passing)", () => {
    const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (const body of ["0".repeat(43), "z".repeat(43), "Ab3".repeat(14) + "Q"]) {
      const signed = API_KEY_PREFIX + body;
      let value = BigInt("0x" + createHmac("sha256", TEST_TAG_SECRET).update(signed, "latin1").digest().subarray(0, 6).toString("hex")) % 62n ** 8n;
      let tag = "";
      for (let i = 0; i < 8; i++, value /= 62n) tag = base62[Number(value % 62n)] + tag;
      const key = withChecksum(signed + tag);
      expect(parseApiKey(key)).toEqual({ ok: true, key, tagged: true, kind: "api" });
      expect(hasValidTag(key, TEST_TAG_SECRET)).toBe(true);
    }
  });

  test("a key of the format before tags (53 characters) parses as untagged and never passes a tag check", () => {
    const key = untaggedKey();
    expect(key).toHaveLength(UNTAGGED_KEY_LENGTH);
    expect(parseApiKey(key)).toEqual({ ok: true, key, tagged: false, kind: "api" });
    expect(hasValidTag(key, TEST_TAG_SECRET)).toBe(false);
  });

  test("on a Node.js without crypto.hash (before 20.12) the hash is the same SHA-256", () => {
    const key = issueTestKey().key;
    const expected = hashApiKey(key);
    const crypto = jest.requireActual<typeof import("node:crypto")>("node:crypto") as { hash?: unknown };
    const oneShot = crypto.hash;
    delete crypto.hash;
    try {
      jest.isolateModules(() => {
        const older = jest.requireActual<typeof import("../../src/keys/api-key-format")>("../../src/keys/api-key-format");
        expect(older.hashApiKey(key)).toBe(expected);
      });
    } finally {
      crypto.hash = oneShot;
    }
  });

  test("hash is SHA-256 hex of the key, hint is prefix and four characters", () => {
    const generated = issueTestKey();
    expect(generated.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.hash).toBe(hashApiKey(generated.key));
    expect(generated.hint).toBe(generated.key.slice(0, 8) + "…");
    expect(hintOf(generated.key)).toBe(generated.hint);
  });

  test("every single-character change breaks the checksum", () => {
    const { key } = issueTestKey();
    for (let i = API_KEY_PREFIX.length; i < key.length; i++) {
      const replacement = key[i] === "A" ? "B" : "A";
      const altered = key.slice(0, i) + replacement + key.slice(i + 1);
      expect(parseApiKey(altered)).toEqual({ ok: false, reason: "MALFORMED" });
    }
  });

  test.each([
    ["empty", ""],
    ["wrong prefix", "ghp_" + issueTestKey().key.slice(4)],
    ["truncated", issueTestKey().key.slice(0, -1)],
    ["extra character", issueTestKey().key + "A"],
    ["non-base62 character", issueTestKey().key.slice(0, 10) + "-" + issueTestKey().key.slice(11)],
    ["surrounding space", " " + issueTestKey().key],
    ["a tagged key without its tag", (() => { const { key } = issueTestKey(); return key.slice(0, 47) + key.slice(55); })()],
  ])("%s: MALFORMED", (_name, candidate) => {
    expect(parseApiKey(candidate)).toEqual({ ok: false, reason: "MALFORMED" });
  });

  test("old apikey| prefix: LEGACY_PREFIX", () => {
    expect(parseApiKey("apikey|" + issueTestKey().key)).toEqual({ ok: false, reason: "LEGACY_PREFIX" });
    expect(parseApiKey("apikey|0123456789abcdef")).toEqual({ ok: false, reason: "LEGACY_PREFIX" });
  });

  test("hashesEqual: equal only for identical hashes", () => {
    const a = hashApiKey("a");
    expect(hashesEqual(a, hashApiKey("a"))).toBe(true);
    expect(hashesEqual(a, hashApiKey("b"))).toBe(false);
    expect(hashesEqual(a, a.slice(1))).toBe(false);
  });

  test("session keys (xts_) and cookie values (xtc_) parse as their own kinds; editing a prefix breaks the checksum, and no untagged form exists", () => {
    for (const [kind, prefix] of [
      ["session", "xts_"],
      ["cookie", "xtc_"],
    ] as const) {
      const { key } = generateKey(kind, TEST_TAG_SECRET);
      expect(key.startsWith(prefix) && key.length === API_KEY_LENGTH).toBe(true);
      expect(parseApiKey(key)).toEqual({ ok: true, key, tagged: true, kind });
      expect(hasValidTag(key, TEST_TAG_SECRET)).toBe(true);
      expect(parseApiKey(API_KEY_PREFIX + key.slice(4))).toEqual({ ok: false, reason: "MALFORMED" });
      // Recomputing the checksum after editing the prefix leaves the tag wrong: the HMAC covers the prefix.
      const relabelled = withChecksum(API_KEY_PREFIX + key.slice(4, -6));
      expect(parseApiKey(relabelled)).toMatchObject({ ok: true, kind: "api" });
      expect(hasValidTag(relabelled, TEST_TAG_SECRET)).toBe(false);
      expect(parseApiKey(withChecksum(prefix + key.slice(4, 47)))).toEqual({ ok: false, reason: "MALFORMED" });
    }
  });
});
