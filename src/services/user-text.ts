import { BadUserInputError } from "../errors";
import { hasUnsafeCharacter, hasUnsafeProseCharacter } from "../observability/unsafe-characters";

/** The longest text a filter may hold: as long as the longest description it could match. */
export const FILTER_TEXT_MAX_LENGTH = 256;

const UNSAFE_MESSAGE = "must not contain control characters, bidirectional controls or invisible characters.";

/** An email, a filter value: text that identifies something may hold no unsafe character at all. */
export function refuseUnsafeCharacters(text: string, argumentName: string): void {
  if (hasUnsafeCharacter(text)) throw new BadUserInputError(`${argumentName} ${UNSAFE_MESSAGE}`, argumentName);
}

/** A description, a display name: free text may also hold what emoji are made of (src/observability/unsafe-characters.ts). */
export function refuseUnsafeProseCharacters(text: string, argumentName: string): void {
  if (hasUnsafeProseCharacter(text)) throw new BadUserInputError(`${argumentName} ${UNSAFE_MESSAGE}`, argumentName);
}

/**
 * A filter's text, bounded: an unbounded LIKE pattern made SQLite fail ("LIKE or GLOB pattern too
 * complex") and costs every database time per row. Counted in characters (code points).
 */
export function filterText(text: string, argumentName: string): string {
  if (text.length > FILTER_TEXT_MAX_LENGTH && [...text].length > FILTER_TEXT_MAX_LENGTH) {
    throw new BadUserInputError(`${argumentName} must be at most ${FILTER_TEXT_MAX_LENGTH} characters.`, argumentName);
  }
  refuseUnsafeCharacters(text, argumentName);
  return text;
}
