import { toSqlDateTime } from "../db/data-source";
import { BadUserInputError } from "../errors";

/**
 * Keyset cursors: the position's sort value (a UTC SQL datetime, or null) and id, tagged with
 * the list, order and filter they belong to, so a cursor from another order or filter is refused,
 * not misread.
 */
export interface Cursor {
  value: string | null;
  id: number;
}

const SQL_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
/** Every cursor this service makes is far shorter; a longer one is not decoded at all. */
const MAX_CURSOR_LENGTH = 200;

/** `value`: a Date, or already a SQL datetime (a position read back from the database). */
export function encodeCursor(tag: string, value: Date | string | null, id: number): string {
  return Buffer.from(JSON.stringify([tag, value instanceof Date ? toSqlDateTime(value) : value, id])).toString("base64url");
}

/** `nullValue: false`: the list's order has no NULL tail, so a null value cannot be one of its cursors. */
export function decodeCursor(raw: string, tag: string, options: { nullValue?: boolean } = {}): Cursor {
  const invalid = () => new BadUserInputError("after is not a cursor of this list and order.", "after");
  if (raw.length > MAX_CURSOR_LENGTH) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw invalid();
  const [decodedTag, value, id] = decoded;
  if (decodedTag !== tag || !Number.isSafeInteger(id) || id < 1) throw invalid();
  if (value === null ? options.nullValue === false : typeof value !== "string" || !SQL_DATETIME.test(value)) throw invalid();
  return { value, id };
}

/** Validated page size: 0..max, default when absent. */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > max) throw new BadUserInputError(`first must be between 0 and ${max}.`, "first");
  return size;
}
