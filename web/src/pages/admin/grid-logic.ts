/**
 * The API Keys grid's state, kept apart from React so each rule is plain and checkable:
 * the filter sent to the API, the keyset cursor stack behind Next/Previous, and the selection
 * (single rows, or every key matching the filter).
 */
import type { ApiKeyFilter, ApiKeyOrder } from "./documents";

/** What the filter form holds: text as typed, before it becomes an ApiKeyFilter. */
export interface FilterDraft {
  ownerEmail: string;
  descriptionContains: string;
  /** "" any, "true" expired only, "false" unexpired only. */
  expired: "" | "true" | "false";
  /** The value of an <input type="date">: "YYYY-MM-DD" or "". */
  unusedSince: string;
}

export const EMPTY_FILTER_DRAFT: FilterDraft = { ownerEmail: "", descriptionContains: "", expired: "", unusedSince: "" };

export const SORT_OPTIONS: ReadonlyArray<{ value: ApiKeyOrder; label: string }> = [
  { value: "CREATED_AT_DESC", label: "Newest first" },
  { value: "CREATED_AT_ASC", label: "Oldest first" },
  { value: "LAST_USED_AT_DESC", label: "Recently used" },
  { value: "EXPIRES_AT_ASC", label: "Expiring soonest" },
];

/**
 * "YYYY-MM-DD" from a date field → the instant that day starts in the person's own time zone, as
 * ISO 8601 at UTC. "Unused since 10 March" then means: not used on 10 March or later, where they are.
 * Null for an empty or impossible date (31 February does not roll over into March).
 */
export function dateFieldToInstant(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const start = new Date(year, month - 1, day, 0, 0, 0, 0);
  if (start.getFullYear() !== year || start.getMonth() !== month - 1 || start.getDate() !== day) return null;
  return start.toISOString();
}

/** The ApiKeyFilter for a draft: blank fields left out, so "no filter" is an empty object. */
export function toApiKeyFilter(draft: FilterDraft): ApiKeyFilter {
  const filter: ApiKeyFilter = {};
  const ownerEmail = draft.ownerEmail.trim();
  if (ownerEmail) filter.ownerEmail = ownerEmail;
  const description = draft.descriptionContains.trim();
  if (description) filter.descriptionContains = description;
  if (draft.expired === "true") filter.expired = true;
  if (draft.expired === "false") filter.expired = false;
  const unusedSince = dateFieldToInstant(draft.unusedSince);
  if (unusedSince) filter.unusedSince = unusedSince;
  return filter;
}

/** True when the filter matches every key: a real revokeApiKeysWhere run then needs `all: true`. */
export function isEmptyFilter(filter: ApiKeyFilter): boolean {
  return Object.values(filter).every((value) => value === undefined || value === null || value === "");
}

/**
 * Keyset paging: the API gives only `endCursor`, so the way back is a stack of the `after` each
 * visited page was fetched with. The first page's is null.
 */
export type CursorStack = ReadonlyArray<string | null>;

export const FIRST_PAGE: CursorStack = [null];

export function currentCursor(stack: CursorStack): string | null {
  return stack[stack.length - 1] ?? null;
}

export function nextPage(stack: CursorStack, endCursor: string | null): CursorStack {
  return endCursor ? [...stack, endCursor] : stack;
}

export function previousPage(stack: CursorStack): CursorStack {
  return stack.length > 1 ? stack.slice(0, -1) : stack;
}

export function pageNumber(stack: CursorStack): number {
  return stack.length;
}

/**
 * Either single rows picked by id (kept across pages, with their hints for the names), or every key
 * the applied filter matches, counted by a dry run.
 */
export type Selection =
  | { kind: "rows"; ids: ReadonlyMap<string, string> }
  | { kind: "matching"; count: number };

export const NO_SELECTION: Selection = { kind: "rows", ids: new Map() };

export function isSelected(selection: Selection, id: string): boolean {
  return selection.kind === "matching" || selection.ids.has(id);
}

export function selectedCount(selection: Selection): number {
  return selection.kind === "matching" ? selection.count : selection.ids.size;
}

/**
 * Toggling one row. Leaving "every matching key" by unticking a row keeps the rest of the page
 * ticked: the person sees what they get.
 */
export function toggleRow(
  selection: Selection,
  row: { id: string; hint: string },
  pageRows: ReadonlyArray<{ id: string; hint: string }>,
): Selection {
  const ids = new Map(selection.kind === "rows" ? selection.ids : pageRows.map((r) => [r.id, r.hint] as const));
  if (selection.kind === "matching") ids.delete(row.id);
  else if (ids.has(row.id)) ids.delete(row.id);
  else ids.set(row.id, row.hint);
  return { kind: "rows", ids };
}

export function allOnPageSelected(selection: Selection, pageRows: ReadonlyArray<{ id: string }>): boolean {
  return pageRows.length > 0 && pageRows.every((row) => isSelected(selection, row.id));
}

/** The header checkbox: ticks every row on the page, or unticks them when all were ticked. */
export function togglePage(selection: Selection, pageRows: ReadonlyArray<{ id: string; hint: string }>): Selection {
  if (allOnPageSelected(selection, pageRows)) {
    if (selection.kind === "matching") return NO_SELECTION;
    const ids = new Map(selection.ids);
    for (const row of pageRows) ids.delete(row.id);
    return { kind: "rows", ids };
  }
  const ids = new Map(selection.kind === "rows" ? selection.ids : []);
  for (const row of pageRows) ids.set(row.id, row.hint);
  return { kind: "rows", ids };
}

/** "1 key", "2 keys" */
export function countOf(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
