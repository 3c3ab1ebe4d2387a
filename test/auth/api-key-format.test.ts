import { API_KEY_LENGTH, API_KEY_PREFIX, generateApiKey, hashApiKey, hashesEqual, hintOf, parseApiKey } from "../../src/auth/api-key-format";

describe("API key format", () => {
  test("generated key: prefix, base62 body, fixed length", () => {
    const { key } = generateApiKey();
    expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(key).toHaveLength(API_KEY_LENGTH);
    expect(key).toMatch(/^xta_[0-9A-Za-z]+$/);
  });

  test("generated key carries at least 256 bits: 43 base62 characters of body", () => {
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
    expect(API_KEY_LENGTH - API_KEY_PREFIX.length - 6).toBe(43);
  });

  test("a thousand generated keys are distinct and all parse", () => {
    const keys = Array.from({ length: 1000 }, () => generateApiKey().key);
    expect(new Set(keys).size).toBe(1000);
    for (const key of keys) expect(parseApiKey(key)).toEqual({ ok: true, key });
  });

  test("hash is SHA-256 hex of the key, hint is prefix and four characters", () => {
    const generated = generateApiKey();
    expect(generated.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.hash).toBe(hashApiKey(generated.key));
    expect(generated.hint).toBe(generated.key.slice(0, 8) + "…");
    expect(hintOf(generated.key)).toBe(generated.hint);
  });

  test("every single-character change breaks the checksum", () => {
    const { key } = generateApiKey();
    for (let i = API_KEY_PREFIX.length; i < key.length; i++) {
      const replacement = key[i] === "A" ? "B" : "A";
      const altered = key.slice(0, i) + replacement + key.slice(i + 1);
      expect(parseApiKey(altered)).toEqual({ ok: false, reason: "MALFORMED" });
    }
  });

  test.each([
    ["empty", ""],
    ["wrong prefix", "ghp_" + generateApiKey().key.slice(4)],
    ["truncated", generateApiKey().key.slice(0, -1)],
    ["extra character", generateApiKey().key + "A"],
    ["non-base62 character", generateApiKey().key.slice(0, 10) + "-" + generateApiKey().key.slice(11)],
    ["surrounding space", " " + generateApiKey().key],
  ])("%s: MALFORMED", (_name, candidate) => {
    expect(parseApiKey(candidate)).toEqual({ ok: false, reason: "MALFORMED" });
  });

  test("old apikey| prefix: LEGACY_PREFIX", () => {
    expect(parseApiKey("apikey|" + generateApiKey().key)).toEqual({ ok: false, reason: "LEGACY_PREFIX" });
    expect(parseApiKey("apikey|0123456789abcdef")).toEqual({ ok: false, reason: "LEGACY_PREFIX" });
  });

  test("hashesEqual: equal only for identical hashes", () => {
    const a = hashApiKey("a");
    expect(hashesEqual(a, hashApiKey("a"))).toBe(true);
    expect(hashesEqual(a, hashApiKey("b"))).toBe(false);
    expect(hashesEqual(a, a.slice(1))).toBe(false);
  });
});
