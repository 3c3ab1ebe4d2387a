/**
 * graphql-js puts the submitted value into the messages of coercion and validation errors
 * (`Variable "$p" got invalid value ["S3cret"]; String cannot represent a non string value:
 * ["S3cret"]`), and the lexer puts string literals into syntax errors. A password or key sent in
 * the wrong shape would come back in the response and land in any log of it. These rewrite every
 * such message to one that names the variable, the path and the reason, never the value.
 */

const VARIABLE_PREFIX = /^Variable "\$(\w+)" got invalid value /;
const VALUE_PATH = / at "(\w+(?:\.\w+|\[\d+\])*)"$/;
const LITERAL_PREFIX = /^Expected value of type "([^"]+)", found /;
/** The lexer's token descriptions: `String "…"`, `BlockString "…"`, `Int "…"`, `Float "…"`. */
const TOKEN_VALUE = /\b(String|BlockString|Int|Float) "(?:[^"\\]|\\.)*"(?=\.|$|,| )/g;

export function withoutSubmittedValues(message: string, reason?: string): string {
  const variable = VARIABLE_PREFIX.exec(message);
  if (variable) {
    // The reason (the original error's message) ends the text; the value and path come before it.
    const head = reason !== undefined && message.endsWith(`; ${reason}`) ? message.slice(0, message.length - reason.length - 2) : null;
    const path = head === null ? null : VALUE_PATH.exec(head)?.[1];
    const where = path && path !== variable[1] ? ` at "${path}"` : "";
    return `Variable "$${variable[1]}" got an invalid value${where}: ${head === null ? "the value is not valid for its type." : valueFreeReason(reason!)}`;
  }
  const literal = LITERAL_PREFIX.exec(message);
  if (literal) {
    const separator = message.indexOf("; ", literal[0].length);
    return `Expected value of type "${literal[1]}"${separator < 0 ? "." : `: ${valueFreeReason(message.slice(separator + 2))}`}`;
  }
  if (message.startsWith("Syntax Error: ")) return message.replace(TOKEN_VALUE, "$1");
  return valueFreeReason(message, message);
}

/**
 * The reasons graphql-js and graphql-scalars give, without the value. Text that matches no known
 * form is returned as `otherwise` (our own messages, which never hold a value) or replaced.
 */
function valueFreeReason(reason: string, otherwise = "the value is not valid for its type."): string {
  // `String cannot represent a non string value: …`, `Int cannot represent non-integer value: …`,
  // `Enum "ApiKeyOrder" cannot represent non-enum value: …`: the value follows the colon.
  const scalar = /^((?:Int|Float|String|Boolean|ID|Enum "\w+") cannot represent [^:]*?): /s.exec(reason);
  if (scalar) return `${scalar[1]}.`;
  const enumValue = /^Value .* does not exist in "(\w+)" enum\./s.exec(reason);
  if (enumValue) return `The value does not exist in "${enumValue[1]}" enum.`;
  // graphql-scalars: `DateTime cannot represent an invalid date-time-string <value>.` and the like.
  const scalarsLibrary = /^(\w+) cannot (?:represent|be serialized from)\b/.exec(reason);
  if (scalarsLibrary) return `${scalarsLibrary[1]} cannot represent this value.`;
  // `Field "x" is not defined by type "T".`: the field name is a key of the submitted object.
  const unknownField = /^Field "(.*)" is not defined by type "(\w+)"\.$/s.exec(reason);
  if (unknownField) return /^\w+$/.test(unknownField[1]) ? reason : `A field is not defined by type "${unknownField[2]}".`;
  return otherwise;
}
