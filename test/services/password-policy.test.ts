import fs from "node:fs";
import { COMMON_PASSWORD_COUNT, COMMON_PASSWORDS_FILE, commonPasswordsModule } from "../../scripts/common-passwords";
import { COMMON_PASSWORDS } from "../../src/services/common-passwords";
import { describePasswordProblem, PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARACTERS } from "../../src/services/password-policy";

describe("password rules (NIST SP 800-63B)", () => {
  test("the shipped list is what `npm run common-passwords` makes from the ranked source: 1,000 distinct entries", () => {
    expect(fs.readFileSync(COMMON_PASSWORDS_FILE, "utf8")).toBe(commonPasswordsModule());
    expect(new Set(COMMON_PASSWORDS).size).toBe(COMMON_PASSWORD_COUNT);
    expect(COMMON_PASSWORDS.slice(0, 3)).toEqual(["123456", "password", "12345678"]);
  });

  test("every password on the list is refused, in any case", () => {
    for (const common of COMMON_PASSWORDS) {
      expect(describePasswordProblem(common)).not.toBeNull();
      expect(describePasswordProblem(common.toUpperCase())).not.toBeNull();
    }
  });

  test("length: 12 characters counted as code points, at most 72 bytes of UTF-8", () => {
    expect(PASSWORD_MIN_CHARACTERS).toBe(12);
    expect(describePasswordProblem("x".repeat(11) + "y")).toBeNull();
    expect(describePasswordProblem("zqxjvkwmpbft".slice(0, 11))).toMatch(/at least 12 characters/);
    // 12 emoji: 12 characters (24 UTF-16 units, 48 bytes).
    expect(describePasswordProblem("🔑🌲🚲🎻🐙🍋🧭🪁🦉🌋🎲🧩")).toBeNull();
    expect(describePasswordProblem("🔑".repeat(11))).toMatch(/at least 12/);
    expect(describePasswordProblem("a".repeat(PASSWORD_MAX_BYTES - 1) + "b")).toBeNull();
    expect(describePasswordProblem("a".repeat(PASSWORD_MAX_BYTES) + "b")).toMatch(/at most 72 bytes/);
    expect(describePasswordProblem("x".repeat(1_000_000))).toMatch(/at most 72 bytes/);
  });

  test("no composition rules: lower-case words with spaces pass, mixed classes earn nothing", () => {
    expect(describePasswordProblem("correct horse battery staple")).toBeNull();
    expect(describePasswordProblem("plain lowercase only")).toBeNull();
  });

  test("a common or very short piece repeated is refused; an uncommon one is not", () => {
    expect(describePasswordProblem("monkeymonkey")).toMatch(/common/);
    expect(describePasswordProblem("123456123456")).toMatch(/common/);
    expect(describePasswordProblem("abcabcabcabc")).toMatch(/common/);
    expect(describePasswordProblem("zqxjvkzqxjvk")).toBeNull();
  });

  test("the account's own email or its local part is refused", () => {
    expect(describePasswordProblem("Maximilian.Mustermann@example.org", "maximilian.mustermann@example.org")).toMatch(/email/);
    expect(describePasswordProblem("maximilian.mustermann", "maximilian.mustermann@example.org")).toMatch(/email/);
    expect(describePasswordProblem("maximilian.mustermann", "someone.else@example.org")).toBeNull();
  });

  test("the message never holds the password", () => {
    for (const password of ["short", "monkeymonkey", "é".repeat(40)]) expect(describePasswordProblem(password)).not.toContain(password);
  });
});
