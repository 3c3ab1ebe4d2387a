import { createHash } from "node:crypto";
import { toSqlDateTime } from "../db/data-source";
import { canonicalEmail } from "../entities/email";
import { filterText } from "./user-text";

/**
 * How the key lists (the admin grid `apiKeys`, and `myApiKeys`) read a page at any size of the
 * table: every order walks one B-tree index in its own order (keyset), so a page never sorts and
 * never counts the rows before it.
 *
 * - Each order has an index `(order column, id)` and one `(owner_id, order column, id)` for the
 *   owner's list and the `ownerEmail` filter (the email is resolved to the user's id first).
 * - NULLs come last in the nullable orders. Both databases sort NULL lowest, so the rows with a
 *   value and the NULL tail are two *segments* of the same index, read one after the other:
 *   `LAST_USED_AT_DESC` reads the index backwards down to the first value, then the NULLs by id
 *   descending; `EXPIRES_AT_ASC` reads the values forwards, then the NULLs (never expires) by id.
 *   A cursor holds (value or null, id), so a seek is a plain range of the index in either segment.
 * - A filter on the order's own column narrows the range (`createdBefore` under the creation
 *   orders, `expired` under EXPIRES_AT_ASC, `unusedSince` under LAST_USED_AT_DESC).
 * - Any other filter (`descriptionContains`, or a time filter on another column) cannot be served
 *   by the order's index: the page then examines at most `MAX_ROWS_EXAMINED_PER_PAGE` rows of the
 *   index per segment. When those run out before the page is full, the page holds fewer rows than
 *   `first`, `hasNextPage` is true and the cursor stands where the scan stopped.
 */
export enum ApiKeyOrder {
  CREATED_AT_DESC = "CREATED_AT_DESC",
  CREATED_AT_ASC = "CREATED_AT_ASC",
  LAST_USED_AT_DESC = "LAST_USED_AT_DESC",
  EXPIRES_AT_ASC = "EXPIRES_AT_ASC",
}

export interface ApiKeyFilterInput {
  ownerEmail?: string | null;
  descriptionContains?: string | null;
  expired?: boolean | null;
  unusedSince?: Date | null;
  createdBefore?: Date | null;
}

/**
 * Rows of the order's index a page reads at most per segment when a filter is not served by that
 * index: a few milliseconds on either database (5,000 took MariaDB about 40 ms on 2 shared cores).
 * A filter that matches at least 1 key in 20 still fills a page of 50.
 */
export const MAX_ROWS_EXAMINED_PER_PAGE = 1000;

export type OrderColumn = "created_at" | "last_used_at" | "expires_at";

export interface OrderSpec {
  column: OrderColumn;
  direction: "ASC" | "DESC";
  nullable: boolean;
}

export const ORDER_SPECS: Record<ApiKeyOrder, OrderSpec> = {
  [ApiKeyOrder.CREATED_AT_DESC]: { column: "created_at", direction: "DESC", nullable: false },
  [ApiKeyOrder.CREATED_AT_ASC]: { column: "created_at", direction: "ASC", nullable: false },
  [ApiKeyOrder.LAST_USED_AT_DESC]: { column: "last_used_at", direction: "DESC", nullable: true },
  [ApiKeyOrder.EXPIRES_AT_ASC]: { column: "expires_at", direction: "ASC", nullable: true },
};

/** The indexes of the migration ListIndexes1765000000000 (and the two before it). */
export const LIST_INDEXES: Record<OrderColumn, { all: string; owner: string }> = {
  created_at: { all: "idx_api_keys_created", owner: "idx_api_keys_owner_created" },
  last_used_at: { all: "idx_api_keys_last_used", owner: "idx_api_keys_owner_last_used" },
  expires_at: { all: "idx_api_keys_expires", owner: "idx_api_keys_owner_expires" },
};

/** A filter after validation: canonical email, lower-cased text, SQL datetimes. */
export interface NormalisedFilter {
  ownerEmail: string | null;
  descriptionContains: string | null;
  expired: boolean | null;
  unusedSince: string | null;
  createdBefore: string | null;
}

export function normaliseFilter(filter: ApiKeyFilterInput): NormalisedFilter {
  const text = filter.descriptionContains != null && filter.descriptionContains !== "" ? filterText(filter.descriptionContains, "descriptionContains") : null;
  return {
    ownerEmail: filter.ownerEmail != null ? canonicalEmail(filterText(filter.ownerEmail, "ownerEmail")) : null,
    descriptionContains: text === null ? null : text.toLowerCase(),
    expired: filter.expired ?? null,
    unusedSince: filter.unusedSince != null ? toSqlDateTime(filter.unusedSince) : null,
    createdBefore: filter.createdBefore != null ? toSqlDateTime(filter.createdBefore) : null,
  };
}

/**
 * Names one list: the filter (as given, not the instant it was read at) and whose keys. Cursors
 * carry it with their order, so a cursor is refused under another order or filter; the count
 * cache keys its counts by it.
 */
export function listFingerprint(filter: NormalisedFilter, ownerId: number | undefined): string {
  const named = JSON.stringify([ownerId ?? null, filter.ownerEmail, filter.descriptionContains, filter.expired, filter.unusedSince, filter.createdBefore]);
  return createHash("sha256").update(named).digest("base64url").slice(0, 12);
}

/** What a list's cursors carry: its order and its fingerprint. */
export function listCursorTag(orderBy: ApiKeyOrder, fingerprint: string): string {
  return `${orderBy}.${fingerprint}`;
}

export interface Sql {
  conditions: string[];
  params: unknown[];
}

/** Every condition of the filter, for counting (the owner already resolved to an id). */
export function matchConditions(filter: NormalisedFilter, ownerId: number | null, now: Date): Sql {
  const sql: Sql = { conditions: [], params: [] };
  if (ownerId !== null) add(sql, "k.owner_id = ?", ownerId);
  if (filter.descriptionContains !== null) addDescription(sql, filter.descriptionContains);
  if (filter.expired === true) add(sql, "(k.expires_at IS NOT NULL AND k.expires_at <= ?)", toSqlDateTime(now));
  else if (filter.expired === false) add(sql, "(k.expires_at IS NULL OR k.expires_at > ?)", toSqlDateTime(now));
  if (filter.unusedSince !== null) add(sql, "(k.last_used_at IS NULL OR k.last_used_at < ?)", filter.unusedSince);
  if (filter.createdBefore !== null) add(sql, "k.created_at < ?", filter.createdBefore);
  return sql;
}

interface Bound {
  value: string;
  inclusive: boolean;
}

/** A contiguous stretch of the order's index: the rows with a value (within bounds), or the NULLs. */
export interface Segment {
  nulls: boolean;
  lower: Bound | null;
  upper: Bound | null;
}

export interface ListPlan {
  spec: OrderSpec;
  ownerId: number | null;
  index: string;
  segments: Segment[];
  /** Conditions the index cannot serve: checked row by row, within the examined-rows bound. */
  residual: Sql;
}

/** Where a page starts (exclusive) or a scan stopped: the order column's value (null in the NULL tail) and id. */
export interface Position {
  value: string | null;
  id: number;
}

export function planList(spec: OrderSpec, filter: NormalisedFilter, ownerId: number | null, now: Date): ListPlan {
  const residual: Sql = { conditions: [], params: [] };
  const values: Segment = { nulls: false, lower: null, upper: null };
  let nulls = spec.nullable;
  if (filter.descriptionContains !== null) addDescription(residual, filter.descriptionContains);

  if (filter.createdBefore !== null) {
    if (spec.column === "created_at") values.upper = { value: filter.createdBefore, inclusive: false };
    else add(residual, "k.created_at < ?", filter.createdBefore);
  }
  if (filter.expired !== null) {
    const at = toSqlDateTime(now);
    if (spec.column === "expires_at") {
      if (filter.expired) {
        values.upper = { value: at, inclusive: true };
        nulls = false; // never expires: never expired
      } else {
        values.lower = { value: at, inclusive: false };
      }
    } else if (filter.expired) add(residual, "(k.expires_at IS NOT NULL AND k.expires_at <= ?)", at);
    else add(residual, "(k.expires_at IS NULL OR k.expires_at > ?)", at);
  }
  if (filter.unusedSince !== null) {
    // Never used counts as unused: the NULL tail stays.
    if (spec.column === "last_used_at") values.upper = { value: filter.unusedSince, inclusive: false };
    else add(residual, "(k.last_used_at IS NULL OR k.last_used_at < ?)", filter.unusedSince);
  }
  const segments = [values];
  if (nulls) segments.push({ nulls: true, lower: null, upper: null });
  const indexes = LIST_INDEXES[spec.column];
  return { spec, ownerId, index: ownerId === null ? indexes.all : indexes.owner, segments, residual };
}

/**
 * How a filter is counted: along the index of the filtered column when there is one (`expired`:
 * the expiry index, `unusedSince`: the last-use index), so each segment's count is a range of an
 * index, read without the table when no other condition needs a row.
 */
export function planCount(filter: NormalisedFilter, ownerId: number | null, now: Date): ListPlan {
  const order = filter.expired !== null ? ApiKeyOrder.EXPIRES_AT_ASC : filter.unusedSince !== null ? ApiKeyOrder.LAST_USED_AT_DESC : ApiKeyOrder.CREATED_AT_DESC;
  return planList(ORDER_SPECS[order], filter, ownerId, now);
}

/** The segments a page starting after `from` reads, in order. */
export function segmentsFrom(plan: ListPlan, from: Position | null): Segment[] {
  if (from === null || from.value !== null) return plan.segments;
  return plan.segments.filter((segment) => segment.nulls);
}

/** The range of the index from just after `from` to the end of the segment (or to `through`, inclusive). */
export function seek(plan: ListPlan, segment: Segment, from: Position | null, through: Position | null = null): Sql {
  const sql: Sql = { conditions: [], params: [] };
  const column = `k.${plan.spec.column}`;
  const ascending = plan.spec.direction === "ASC";
  const beyond = ascending ? ">" : "<";
  const before = ascending ? "<" : ">";
  if (plan.ownerId !== null) add(sql, "k.owner_id = ?", plan.ownerId);
  if (segment.nulls) {
    add(sql, `${column} IS NULL`);
    if (from && from.value === null) add(sql, `k.id ${beyond} ?`, from.id);
    if (through) add(sql, `k.id ${before}= ?`, through.id);
    return sql;
  }
  const [start, end] = ascending ? [segment.lower, segment.upper] : [segment.upper, segment.lower];
  const startOp = (bound: Bound) => `${beyond}${bound.inclusive ? "=" : ""}`;
  const endOp = (bound: Bound) => `${before}${bound.inclusive ? "=" : ""}`;
  let bounded = false;
  // The leading `column >= ?` (or <=) is a plain range of the index; the OR alone is not one.
  if (from && from.value !== null && !(start && startsAfter(start, from.value, ascending))) {
    add(sql, `${column} ${beyond}= ? AND (${column} ${beyond} ? OR k.id ${beyond} ?)`, from.value, from.value, from.id);
    bounded = true;
  } else if (start) {
    // No cursor, or the filter's own bound lies past it (`expired` moves with the clock).
    add(sql, `${column} ${startOp(start)} ?`, start.value);
    bounded = true;
  }
  if (through && through.value !== null) {
    add(sql, `${column} ${before}= ? AND (${column} ${before} ? OR k.id ${before}= ?)`, through.value, through.value, through.id);
    bounded = true;
  } else if (end) {
    add(sql, `${column} ${endOp(end)} ?`, end.value);
    bounded = true;
  }
  if (!bounded && plan.spec.nullable) add(sql, `${column} IS NOT NULL`);
  return sql;
}

/** Whether the filter's start bound excludes everything up to and including `value`. */
function startsAfter(start: Bound, value: string, ascending: boolean): boolean {
  if (start.value === value) return !start.inclusive;
  return ascending ? start.value > value : start.value < value;
}

/**
 * In the NULL segment the column is one value: ordered by id alone, which MariaDB reads off the
 * index (ordered by the NULL column too, it sorted the segment).
 */
export function orderClause(plan: ListPlan, segment: Segment): string {
  const { column, direction } = plan.spec;
  return segment.nulls ? `k.id ${direction}` : `k.${column} ${direction}, k.id ${direction}`;
}

/** Reads the planned index, by name: SQLite refuses to run a statement its index cannot serve. */
export function indexHint(plan: ListPlan, mysql: boolean): string {
  return mysql ? `FORCE INDEX (${plan.index})` : `INDEXED BY ${plan.index}`;
}

function add(sql: Sql, condition: string, ...params: unknown[]): void {
  sql.conditions.push(condition);
  sql.params.push(...params);
}

function addDescription(sql: Sql, lowerCased: string): void {
  // '!' escapes the wildcards and itself, so the text matches only as itself on both databases.
  add(sql, "LOWER(k.description) LIKE ? ESCAPE '!'", `%${lowerCased.replace(/[!%_]/g, (c) => "!" + c)}%`);
}
