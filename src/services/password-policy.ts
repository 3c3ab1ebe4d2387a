import { COMMON_PASSWORDS } from "./common-passwords";

/**
 * Passwords a person chooses, after NIST SP 800-63B (5.1.1.2): a minimum length, no composition
 * rules (no "one digit, one symbol"), and no password from a list of commonly used ones. Generated
 * passwords (the first admin's, a reset's one-time password) are random and need no check.
 */
export const PASSWORD_MIN_CHARACTERS = 12;
/**
 * bcrypt reads only the first 72 bytes: a longer password would be silently cut, and two that
 * share those bytes would both match. So the limit is refused, not hidden: 72 ASCII characters,
 * fewer where a character takes several bytes in UTF-8.
 */
export const PASSWORD_MAX_BYTES = 72;
/** Refused before any other work: far above PASSWORD_MAX_BYTES, so the message stays right. */
const PASSWORD_MAX_INPUT_LENGTH = 1024;

const COMMON = new Set(COMMON_PASSWORDS);
/** The whole password is one shorter piece said again: "aaaaaaaaaaaa", "123456123456". */
const REPEATED_PIECE = /^(.+?)\1+$/su;
const SHORT_PIECE_CHARACTERS = 3;

/**
 * Why a chosen password is refused, as a phrase after "password" ("must be at least 12
 * characters"), or null when it is acceptable. Never quotes the password. `email`: the account's,
 * which is no password either.
 */
export function describePasswordProblem(password: string, email?: string): string | null {
  if (password.length > PASSWORD_MAX_INPUT_LENGTH || Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) {
    return `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8 (${PASSWORD_MAX_BYTES} plain ASCII characters)`;
  }
  // Counted in characters (code points), as NIST counts them; a space is a character like any other.
  if ([...password].length < PASSWORD_MIN_CHARACTERS) return `must be at least ${PASSWORD_MIN_CHARACTERS} characters`;
  const folded = password.normalize("NFKC").toLowerCase();
  if (COMMON.has(folded)) return "is one of the 1,000 most common passwords: choose another";
  const repeated = REPEATED_PIECE.exec(folded);
  if (repeated && ([...repeated[1]].length <= SHORT_PIECE_CHARACTERS || COMMON.has(repeated[1]))) {
    return "repeats a short or common piece: choose another";
  }
  if (email) {
    const account = email.normalize("NFKC").toLowerCase();
    if (folded === account || folded === account.slice(0, account.lastIndexOf("@"))) return "must not be the account's email address";
  }
  return null;
}
