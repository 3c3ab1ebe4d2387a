import fc from "fast-check";
import { decodeBase64Strict, parseCredentials } from "../../src/auth/credentials";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("credential parsing", () => {
  test("no headers: none", () => {
    expect(parseCredentials({})).toEqual({ kind: "none" });
  });

  test("Basic apikey:<key>: an API key via Basic, username case-insensitive", () => {
    expect(parseCredentials({ authorization: `Basic ${b64("apikey:xta_abc")}` })).toEqual({ kind: "apikey", key: "xta_abc", via: "basic" });
    expect(parseCredentials({ authorization: `basic ${b64("APIKEY:xta_abc")}` })).toEqual({ kind: "apikey", key: "xta_abc", via: "basic" });
  });

  test("Basic email:password: a password credential; colons after the first belong to the password", () => {
    expect(parseCredentials({ authorization: `Basic ${b64("a@b.org:pa:ss")}` })).toEqual({ kind: "password", email: "a@b.org", password: "pa:ss" });
  });

  test("unicode passwords survive decoding", () => {
    expect(parseCredentials({ authorization: `Basic ${b64("a@b.org:pässwörd✓")}` })).toEqual({ kind: "password", email: "a@b.org", password: "pässwörd✓" });
  });

  test("apikey header: an API key via header, trimmed", () => {
    expect(parseCredentials({ apikey: "  xta_abc " })).toEqual({ kind: "apikey", key: "xta_abc", via: "header" });
  });

  test("both present: Basic wins", () => {
    expect(parseCredentials({ authorization: `Basic ${b64("apikey:one")}`, apikey: "two" })).toEqual({ kind: "apikey", key: "one", via: "basic" });
  });

  test.each([
    ["non-Basic scheme", "Digest abc"],
    ["no value", "Basic"],
    ["invalid base64", "Basic ***"],
    ["unpadded base64", `Basic ${b64("apikey:abcd").replace(/=+$/, "")}`],
    ["no colon", `Basic ${b64("apikey")}`],
    ["empty password", `Basic ${b64("apikey:")}`],
    ["empty username", `Basic ${b64(":x")}`],
    ["control characters", `Basic ${b64("apikey:x\ny")}`],
    ["invalid UTF-8", `Basic ${Buffer.from([0x61, 0x3a, 0xc3]).toString("base64")}`],
    ["two values", `Basic ${b64("apikey:a")} ${b64("apikey:b")}`],
    ["huge header", `Basic ${b64("apikey:" + "k".repeat(10_000))}`],
  ])("%s: malformed", (_name, authorization) => {
    expect(parseCredentials({ authorization })).toEqual({ kind: "malformed" });
  });

  test("Bearer, in any case: malformed, marked as that mistake so the refusal can say what to send", () => {
    for (const authorization of ["Bearer xta_abc", "bearer x", "BEARER"]) expect(parseCredentials({ authorization })).toEqual({ kind: "malformed", mistake: "BEARER_SCHEME" });
  });

  test("empty or huge apikey header: malformed", () => {
    expect(parseCredentials({ apikey: "" })).toEqual({ kind: "malformed" });
    expect(parseCredentials({ apikey: "k".repeat(10_000) })).toEqual({ kind: "malformed" });
  });

  test("apikey header at the length bound: 4,096 characters pass, 4,097 are malformed", () => {
    expect(parseCredentials({ apikey: "k".repeat(4096) })).toEqual({ kind: "apikey", key: "k".repeat(4096), via: "header" });
    expect(parseCredentials({ apikey: "k".repeat(4097) })).toEqual({ kind: "malformed" });
  });

  test("strict base64: exactly the canonical, padded, standard-alphabet encodings of control-free UTF-8 decode", () => {
    // The rule stated as a regular expression plus a round trip; the decoder must agree on any input.
    const reference = (encoded: string): string | null => {
      if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
      const bytes = Buffer.from(encoded, "base64");
      if (bytes.toString("base64") !== encoded) return null;
      const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
      return /[\u0000-\u001f\u007f]/.test(text) ? null : text;
    };
    const safeReference = (encoded: string) => {
      try {
        return reference(encoded);
      } catch {
        return null; // not UTF-8
      }
    };
    const char = fc.constantFrom(..."AQgw+/=-_ .!\t\u00e9".split(""), ..."abcXYZ019".split(""));
    const mutated = fc.tuple(fc.string({ maxLength: 24 }), fc.nat(30), char).map(([text, at, c]) => {
      const valid = Buffer.from(text, "utf8").toString("base64");
      return valid.slice(0, at) + c + valid.slice(at + 1);
    });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: char, maxLength: 24 }), mutated, fc.string({ maxLength: 24 }).map((t) => Buffer.from(t, "utf8").toString("base64"))), (encoded) => {
        expect(decodeBase64Strict(encoded)).toBe(safeReference(encoded));
      }),
      { numRuns: 3000 },
    );
  });
});
