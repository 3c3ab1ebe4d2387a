import fc from "fast-check";
import { API_KEY_LENGTH, LEGACY_PREFIX, parseApiKey } from "../../src/keys/api-key-format";
import { issueTestKey } from "../support/keys";
import { MAX_CREDENTIAL_HEADER_LENGTH, parseCredentials, type Credentials } from "../../src/auth/credentials";

const RUNS = { numRuns: 2000 };
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** The only shapes a parse may produce: whole credentials or nothing; never a partial one. */
function expectWellFormed(result: Credentials): void {
  switch (result.kind) {
    case "none":
    case "malformed":
      expect(Object.keys(result)).toEqual(["kind"]);
      break;
    case "apikey":
      expect(result.key.length).toBeGreaterThan(0);
      expect(result.key.length).toBeLessThanOrEqual(MAX_CREDENTIAL_HEADER_LENGTH);
      expect(["basic", "header"]).toContain(result.via);
      break;
    case "password":
      expect(result.email.length).toBeGreaterThan(0);
      expect(result.password.length).toBeGreaterThan(0);
      expect(result.email + result.password).not.toMatch(/[\u0000-\u001f\u007f]/);
      break;
    default:
      throw new Error(`unexpected credentials ${JSON.stringify(result)}`);
  }
}

/** Text built from the pieces that matter to the parser, so collisions with real syntax are common. */
const tricky = fc
  .array(fc.oneof(fc.constantFrom(":", "::", "=", "==", " ", "Basic ", "basic", "apikey", "APIKEY:", "xta_", LEGACY_PREFIX, "\u0000", "\n", "é", "😀", "\uFFFD", "%", "+", "/"), fc.string({ maxLength: 8 }), fc.string({ unit: "binary", maxLength: 8 })), { maxLength: 12 })
  .map((parts) => parts.join(""));

describe("credentials parser, property-based (fast-check)", () => {
  test("any Authorization header: never throws, always whole credentials or malformed", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), tricky, tricky.map((t) => `Basic ${b64(t)}`), tricky.map((t) => `Basic ${t}`)), (authorization) => {
        expectWellFormed(parseCredentials({ authorization }));
      }),
      RUNS,
    );
  });

  test("any apikey header: never throws, trimmed key or malformed", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), tricky), (apikey) => {
        const result = parseCredentials({ apikey });
        expectWellFormed(result);
        if (result.kind === "apikey") expect(result.key).toBe(apikey.trim());
      }),
      RUNS,
    );
  });

  test("Basic user:password with any text round-trips exactly, split at the first colon", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }).filter((u) => !u.includes(":")), fc.string({ minLength: 1, maxLength: 80 }), (user, password) => {
        const result = parseCredentials({ authorization: `Basic ${b64(`${user}:${password}`)}` });
        if (/[\u0000-\u001f\u007f]/.test(user + password) || /[\uD800-\uDFFF]/.test(user + password)) {
          // lone surrogates do not survive UTF-8; control characters are refused
          expect(["malformed", "apikey", "password"]).toContain(result.kind);
          expectWellFormed(result);
          return;
        }
        if (user.toLowerCase() === "apikey") expect(result).toEqual({ kind: "apikey", key: password, via: "basic" });
        else expect(result).toEqual({ kind: "password", email: user, password });
      }),
      RUNS,
    );
  });

  test("padding errors, missing and extra characters in the base64: malformed, never a partial decode", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 3, maxLength: 40 }), fc.constantFrom("=", "==", "===", "A", "AA", "!", " x"), (text, damage) => {
        const encoded = b64(`apikey:${text}`);
        const damaged = encoded.replace(/=+$/, "") + damage;
        const result = parseCredentials({ authorization: `Basic ${damaged}` });
        expectWellFormed(result);
        if (result.kind !== "malformed") expect(Buffer.from(damaged, "base64").toString("base64")).toBe(damaged); // only a valid base64 may parse
      }),
      RUNS,
    );
  });

  test("huge inputs: refused as malformed, quickly", () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_CREDENTIAL_HEADER_LENGTH + 1, max: 200_000 }), fc.constantFrom("A", ":", "x", "é"), (length, filler) => {
        const started = process.hrtime.bigint();
        expect(parseCredentials({ authorization: `Basic ${filler.repeat(length)}` })).toEqual({ kind: "malformed" });
        expect(parseCredentials({ apikey: filler.repeat(length) })).toEqual({ kind: "malformed" });
        expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000); // a hang, not a benchmark
      }),
      { numRuns: 100 },
    );
  });
});

describe("key parser, property-based (fast-check)", () => {
  test("any string: never throws; accepted only if it is exactly a well-formed key with a valid checksum", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), tricky, fc.stringMatching(/^xta_[0-9A-Za-z]{49}$/)), (candidate) => {
        const result = parseApiKey(candidate);
        if (result.ok) {
          expect(result.key).toBe(candidate);
          expect(candidate).toHaveLength(API_KEY_LENGTH);
        } else {
          expect(["MALFORMED", "LEGACY_PREFIX"]).toContain(result.reason);
        }
      }),
      RUNS,
    );
  });

  test("random well-shaped keys (right prefix, length and alphabet) are refused by the checksum", () => {
    for (const shape of [/^xta_[0-9A-Za-z]{49}$/, /^xta_[0-9A-Za-z]{57}$/]) {
      const accepted = fc.sample(fc.stringMatching(shape), 5000).filter((candidate) => parseApiKey(candidate).ok);
      expect(accepted.length).toBeLessThanOrEqual(1); // 2^-32 each: in practice none
    }
  });

  test("every single-character change to a real key is detected", () => {
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    fc.assert(
      fc.property(fc.integer({ min: 4, max: API_KEY_LENGTH - 1 }), fc.integer({ min: 1, max: 61 }), (position, shift) => {
        const { key } = issueTestKey();
        const replaced = alphabet[(alphabet.indexOf(key[position]) + shift) % 62];
        const changed = key.slice(0, position) + replaced + key.slice(position + 1);
        expect(parseApiKey(changed)).toEqual({ ok: false, reason: "MALFORMED" });
      }),
      RUNS,
    );
  });

  test("prefixes, truncation and extra characters around a real key: refused, legacy prefix named", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 10 }), (extra, cut) => {
        const { key } = issueTestKey();
        expect(parseApiKey(LEGACY_PREFIX + key)).toEqual({ ok: false, reason: "LEGACY_PREFIX" });
        expect(parseApiKey(key + extra).ok).toBe(false);
        expect(parseApiKey(extra + key).ok).toBe(false);
        expect(parseApiKey(key.slice(0, -cut)).ok).toBe(false);
        expect(parseApiKey(key)).toEqual({ ok: true, key, tagged: true });
      }),
      { numRuns: 500 },
    );
  });
});
