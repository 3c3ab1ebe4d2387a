/**
 * The one form of an email address the service stores, looks up and throttles by: Unicode NFKC,
 * lower case, trimmed. Users are stored in this form and compared byte for byte (users.email has a
 * binary collation on MariaDB, SQLite compares bytes), so `alíce@` and `alice@` are two addresses
 * on every database, never one account reached by a variant a case- and accent-insensitive
 * collation would fold.
 *
 * NFKC again after lower-casing: a few letters lower-case into sequences NFKC would recompose,
 * and the form must be a fixed point (canonicalEmail(canonicalEmail(x)) === canonicalEmail(x)).
 */
export function canonicalEmail(raw: string): string {
  return raw.normalize("NFKC").toLowerCase().normalize("NFKC").trim();
}
