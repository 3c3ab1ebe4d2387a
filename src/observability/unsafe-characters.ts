/**
 * Characters that show nothing or change how the text around them is shown: C0/C1 controls
 * (\p{Cc}), format characters such as the bidi overrides U+202A–U+202E and U+2066–U+2069 and the
 * zero-width ones (\p{Cf}), the line and paragraph separators, lone surrogates, everything Unicode
 * marks as default-ignorable (Hangul fillers, variation selectors, tag characters), and the
 * Braille blank. Any of them in an email or a description lets text pass for other text in a log,
 * an audit trail or a list: `\u202egro.x@live` is shown as `evil@x.org`.
 */
const UNSAFE = "\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}\\p{Default_Ignorable_Code_Point}\\u2800";
const UNSAFE_CHARACTER = new RegExp(`[${UNSAFE}]`, "u");

/**
 * In free text, emoji sequences need the zero-width joiner (U+200D) and the emoji/text variation
 * selectors (U+FE0E, U+FE0F); neither reorders nor hides anything, so descriptions may hold them.
 */
const UNSAFE_IN_PROSE = /(?![\u200d\ufe0e\ufe0f])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** For identifiers (emails): any unsafe character. */
export function hasUnsafeCharacter(text: string): boolean {
  return UNSAFE_CHARACTER.test(text);
}

/** For free text (descriptions): unsafe characters other than those emoji are made of. */
export function hasUnsafeProseCharacter(text: string): boolean {
  return UNSAFE_IN_PROSE.test(text);
}

/** JSON's own whitespace (tab, line feed, carriage return) is never raw inside a JSON string. */
const UNSAFE_GLOBAL = new RegExp(`(?![\\t\\n\\r])[${UNSAFE}]`, "gu");

/**
 * A JSON text with every unsafe character written as a \u escape (each UTF-16 unit of it), so a log
 * line shows what was there instead of acting on it. Valid JSON stays valid and means the same:
 * outside strings JSON holds only ASCII, and inside them \uXXXX is the character itself.
 */
export function escapeUnsafeInJson(json: string): string {
  UNSAFE_GLOBAL.lastIndex = 0;
  if (!UNSAFE_GLOBAL.test(json)) return json;
  return json.replace(UNSAFE_GLOBAL, (character) => {
    let escaped = "";
    for (let i = 0; i < character.length; i++) escaped += "\\u" + character.charCodeAt(i).toString(16).padStart(4, "0");
    return escaped;
  });
}
