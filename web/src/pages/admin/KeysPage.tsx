import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useEffect, useId, useState } from "react";
import { DateTime } from "../../components/DateTime";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Alert, type Notice, NoticeMessage } from "../../components/Messages";
import { describeError } from "../../errors";
import { Link } from "../../router";
import { API_KEYS_QUERY, type ApiKeyFilter, type ApiKeyOrder, REVOKE_ALL_API_KEYS, REVOKE_API_KEYS, REVOKE_API_KEYS_WHERE } from "./documents";
import "./admin.css";
import {
  type CursorStack,
  EMPTY_FILTER_DRAFT,
  FIRST_PAGE,
  type FilterDraft,
  NO_SELECTION,
  SORT_OPTIONS,
  type Selection,
  allOnPageSelected,
  countOf,
  currentCursor,
  isEmptyFilter,
  isSelected,
  nextPage,
  pageNumber,
  previousPage,
  selectedCount,
  toApiKeyFilter,
  togglePage,
  toggleRow,
} from "./grid-logic";

const PAGE_SIZES = [25, 50, 100] as const;
const DEFAULT_PAGE_SIZE = 50;

type Confirmation = { kind: "delete"; count: number } | { kind: "revoke-all"; count: number } | null;

/** API Keys (admin): every key on the server, filtered, sorted, paged by keyset cursors; delete and revoke. */
export function KeysPage() {
  const [draft, setDraft] = useState<FilterDraft>(EMPTY_FILTER_DRAFT);
  const [filter, setFilter] = useState<ApiKeyFilter>({});
  const [orderBy, setOrderBy] = useState<ApiKeyOrder>("CREATED_AT_DESC");
  const [pageSize, setPageSize] = useState<number>(DEFAULT_PAGE_SIZE);
  const [cursors, setCursors] = useState<CursorStack>(FIRST_PAGE);
  const [selection, setSelection] = useState<Selection>(NO_SELECTION);
  /** The dry-run count for the applied filter (what "Select all N matching keys" offers). */
  const [matching, setMatching] = useState<{ filterKey: string; count: number } | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [confirmation, setConfirmation] = useState<Confirmation>(null);
  const ids = {
    email: useId(),
    description: useId(),
    expired: useId(),
    unusedSince: useId(),
    unusedSinceHelp: useId(),
    sort: useId(),
    pageSize: useId(),
    selectPage: useId(),
  };

  const filterKey = JSON.stringify(filter);
  const { data, previousData, error, loading, refetch } = useQuery(API_KEYS_QUERY, {
    variables: { filter: isEmptyFilter(filter) ? null : filter, orderBy, first: pageSize, after: currentCursor(cursors) },
    // A grid of keys others may be revoking: always ask the server, never an old page.
    fetchPolicy: "network-only",
  });
  const page = (data ?? previousData)?.apiKeys;
  const rows = page?.nodes ?? [];

  const [revokeApiKeys, { loading: revokingIds }] = useMutation(REVOKE_API_KEYS);
  const [revokeApiKeysWhere, { loading: revokingWhere }] = useMutation(REVOKE_API_KEYS_WHERE);
  const [revokeAllApiKeys, { loading: revokingAll }] = useMutation(REVOKE_ALL_API_KEYS);
  const working = revokingIds || revokingWhere || revokingAll;

  const hasPrevious = pageNumber(cursors) > 1;
  const hasNext = Boolean(page?.pageInfo.hasNextPage && page.pageInfo.endCursor);
  const pageAllSelected = allOnPageSelected(selection, rows);
  const moreThanThisPage = hasNext || hasPrevious || (page ? page.totalCount > rows.length : false);
  const wantsMatchingCount = selection.kind === "rows" && pageAllSelected && moreThanThisPage;
  const matchingCount = matching?.filterKey === filterKey ? matching.count : null;

  // Every row on the page is ticked and more keys match: count them all (a dry run) to offer them.
  useEffect(() => {
    if (!wantsMatchingCount || matchingCount !== null) return;
    let current = true;
    revokeApiKeysWhere({ variables: { filter, dryRun: true, all: false } }).then(
      (result) => {
        if (current && result.data) setMatching({ filterKey, count: result.data.revokeApiKeysWhere });
      },
      (failure: unknown) => {
        if (current) setNotice({ kind: "alert", text: `The matching keys could not be counted: ${describeError(failure).message}` });
      },
    );
    return () => {
      current = false;
    };
    // `filter` is in the dependencies as filterKey (a new object each render would loop).
  }, [wantsMatchingCount, matchingCount, filterKey]);

  /** A new filter, order or page size: back to the first page with nothing selected. */
  function restart(): void {
    setCursors(FIRST_PAGE);
    setSelection(NO_SELECTION);
    setMatching(null);
  }

  function applyFilters(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    setNotice(null);
    setFilter(toApiKeyFilter(draft));
    restart();
  }

  function clearFilters(): void {
    setNotice(null);
    setDraft(EMPTY_FILTER_DRAFT);
    setFilter({});
    restart();
  }

  function changeDraft(patch: Partial<FilterDraft>): void {
    setDraft((current) => ({ ...current, ...patch }));
  }

  function goTo(stack: CursorStack): void {
    setCursors(stack);
    // A matching-keys selection is about the filter, not the page: it stays. Single rows stay too.
  }

  async function askRevokeAll(): Promise<void> {
    setNotice(null);
    try {
      const result = await revokeApiKeysWhere({ variables: { filter: {}, dryRun: true, all: false } });
      setConfirmation({ kind: "revoke-all", count: result.data?.revokeApiKeysWhere ?? 0 });
    } catch (failure) {
      setNotice({ kind: "alert", text: `The keys could not be counted: ${describeError(failure).message}` });
    }
  }

  function askDelete(): void {
    if (selectedCount(selection) === 0) return;
    setNotice(null);
    setConfirmation({ kind: "delete", count: selectedCount(selection) });
  }

  async function runConfirmed(): Promise<void> {
    if (!confirmation || working) return;
    const wasPage = cursors;
    try {
      let revoked: number;
      if (confirmation.kind === "revoke-all") {
        const result = await revokeAllApiKeys();
        revoked = result.data?.revokeAllApiKeys ?? 0;
      } else if (selection.kind === "matching") {
        const result = await revokeApiKeysWhere({ variables: { filter, dryRun: false, all: isEmptyFilter(filter) } });
        revoked = result.data?.revokeApiKeysWhere ?? 0;
      } else {
        const result = await revokeApiKeys({ variables: { ids: [...selection.ids.keys()] } });
        revoked = result.data?.revokeApiKeys ?? 0;
      }
      setNotice({ kind: "status", text: `${countOf(revoked, "key", "keys")} deleted.` });
      setSelection(NO_SELECTION);
      setMatching(null);
      if (confirmation.kind === "delete" && selection.kind === "rows") {
        // The revoked keys leave the page; the page keeps its place among the rest.
        const after = await refetch();
        if (after.data && after.data.apiKeys.nodes.length === 0 && wasPage.length > 1) setCursors(FIRST_PAGE);
      } else if (wasPage.length > 1) {
        setCursors(FIRST_PAGE);
      } else {
        await refetch();
      }
    } catch (failure) {
      setNotice({ kind: "alert", text: describeError(failure).message });
      void refetch();
    } finally {
      setConfirmation(null);
    }
  }

  const selected = selectedCount(selection);
  const scanBounded = page !== undefined && hasNext && rows.length < pageSize;

  return (
    <section className="admin-page keys-page" aria-labelledby="keys-title">
      <h1 id="keys-title">API Keys</h1>
      <p className="lead">
        Every API key on the server, by user. Session keys are not listed. Back to <Link to="/settings">External Tool Settings</Link>
      </p>

      <form role="search" aria-label="Filter keys" className="form filters" onSubmit={applyFilters}>
        <div className="field">
          <label htmlFor={ids.email}>User email</label>
          <input id={ids.email} type="email" autoComplete="off" value={draft.ownerEmail} onChange={(event) => changeDraft({ ownerEmail: event.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={ids.description}>Description contains</label>
          <input
            id={ids.description}
            type="text"
            autoComplete="off"
            maxLength={256}
            value={draft.descriptionContains}
            onChange={(event) => changeDraft({ descriptionContains: event.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.expired}>Expired</label>
          <select id={ids.expired} value={draft.expired} onChange={(event) => changeDraft({ expired: event.target.value as FilterDraft["expired"] })}>
            <option value="">Any</option>
            <option value="true">Expired</option>
            <option value="false">Not expired</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.unusedSince}>Unused since</label>
          <input
            id={ids.unusedSince}
            type="date"
            value={draft.unusedSince}
            aria-describedby={ids.unusedSinceHelp}
            onChange={(event) => changeDraft({ unusedSince: event.target.value })}
          />
          <span id={ids.unusedSinceHelp} className="hint">
            Never used, or last used before this day.
          </span>
        </div>
        <div className="actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button type="button" onClick={clearFilters}>
            Clear filters
          </button>
        </div>
      </form>

      <div className="toolbar">
        <div className="field field-inline">
          <label htmlFor={ids.sort}>Sort by</label>
          <select
            id={ids.sort}
            value={orderBy}
            onChange={(event) => {
              setOrderBy(event.target.value as ApiKeyOrder);
              restart();
            }}
          >
            {SORT_OPTIONS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor={ids.pageSize}>Rows per page</label>
          <select
            id={ids.pageSize}
            value={pageSize}
            onChange={(event) => {
              setPageSize(Number(event.target.value));
              restart();
            }}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <div className="toolbar-actions">
          <button
            type="button"
            className="danger"
            aria-disabled={selected === 0 || undefined}
            onClick={askDelete}
          >
            Delete selected
          </button>
          <button type="button" className="danger-outline" onClick={() => void askRevokeAll()}>
            Revoke all
          </button>
        </div>
      </div>

      {notice ? <NoticeMessage notice={notice} /> : null}
      {error ? (
        <Alert>
          The keys could not be loaded: {describeError(error).message}
        </Alert>
      ) : null}

      <div className="grid-summary">
        {page ? (
          <p className="count">
            {page.totalCount === 1 ? "1 key matches" : `${page.totalCount} keys match`}
            {pageNumber(cursors) > 1 ? ` · page ${pageNumber(cursors)}` : ""}
            {selection.kind === "rows" && selected > 0 ? ` · ${selected} selected` : ""}
          </p>
        ) : loading ? (
          <p className="loading">Loading keys…</p>
        ) : null}
        {selection.kind === "matching" ? (
          <p className="selection-note">
            {`All ${countOf(selection.count, "matching key is", "matching keys are")} selected.`}{" "}
            <button type="button" className="link" onClick={() => setSelection(NO_SELECTION)}>
              Clear selection
            </button>
          </p>
        ) : wantsMatchingCount && matchingCount !== null && matchingCount > selected ? (
          <p className="selection-note">
            {countOf(rows.length, "key", "keys")} on this page selected.{" "}
            <button type="button" className="link" onClick={() => setSelection({ kind: "matching", count: matchingCount })}>
              Select all {matchingCount} matching keys
            </button>
          </p>
        ) : null}
      </div>

      <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="keys-caption">
        <table className="table keys-table" aria-busy={loading || working}>
          <caption id="keys-caption">API keys</caption>
          <thead>
            <tr>
              <th scope="col" className="cell-check">
                <input
                  id={ids.selectPage}
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={pageAllSelected}
                  disabled={rows.length === 0}
                  ref={(element) => {
                    if (element) element.indeterminate = !pageAllSelected && rows.some((row) => isSelected(selection, row.id));
                  }}
                  onChange={() => setSelection(togglePage(selection, rows))}
                />
              </th>
              <th scope="col">User</th>
              <th scope="col">Description</th>
              <th scope="col">Hint</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Read-only</th>
            </tr>
          </thead>
          <tbody>
            {page && rows.length === 0 ? (
              <tr>
                <td colSpan={8}>
                  {hasNext
                    ? "No matching keys in this stretch of the list. Use Next page to keep looking."
                    : isEmptyFilter(filter)
                      ? "There are no API keys on this server."
                      : "Nothing matches these filters."}
                </td>
              </tr>
            ) : null}
            {rows.map((key) => (
              <tr key={key.id} className={isSelected(selection, key.id) ? "row-selected" : undefined}>
                <td className="cell-check">
                  <input
                    type="checkbox"
                    aria-label={`Select key ${key.hint}`}
                    checked={isSelected(selection, key.id)}
                    onChange={() => setSelection(toggleRow(selection, key, rows))}
                  />
                </td>
                <td title={key.owner.displayName ?? undefined}>{key.owner.email}</td>
                <td className="wrap">{key.description ?? ""}</td>
                <td>
                  <code>{key.hint}</code>
                </td>
                <td>
                  <DateTime value={key.createdAt} />
                </td>
                <td>
                  <DateTime value={key.expiresAt} empty="Never" />
                  {key.expired ? <span className="badge badge-expired">Expired</span> : null}
                </td>
                <td>
                  <DateTime value={key.lastUsedAt} empty="Never" />
                </td>
                <td>{key.readOnly ? "Yes" : "No"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {scanBounded && rows.length > 0 ? (
        <p className="hint">This page shows fewer keys than asked: the description search stops after a bounded stretch. Next page continues it.</p>
      ) : null}

      <nav className="pager" aria-label="Key pages">
        <button type="button" disabled={!hasPrevious} onClick={() => goTo(previousPage(cursors))}>
          Previous page
        </button>
        <button type="button" disabled={!hasNext} onClick={() => page && goTo(nextPage(cursors, page.pageInfo.endCursor))}>
          Next page
        </button>
      </nav>

      {confirmation?.kind === "delete" ? (
        <ConfirmDialog
          title={`Delete ${countOf(confirmation.count, "API key", "API keys")}?`}
          consequence={
            <p>
              {confirmation.count === 1 ? "The key stops working" : "The keys stop working"} at once and {confirmation.count === 1 ? "leaves" : "leave"} the
              list. Scripts using {confirmation.count === 1 ? "it" : "them"} get 401. This cannot be undone.
            </p>
          }
          confirmLabel="Delete"
          busy={working}
          onConfirm={() => void runConfirmed()}
          onCancel={() => setConfirmation(null)}
        />
      ) : null}

      {confirmation?.kind === "revoke-all" ? (
        <ConfirmDialog
          title={`Revoke all ${countOf(confirmation.count, "API key", "API keys")} on the server?`}
          consequence={<p>Every user's API keys stop working at once, yours too. Session keys are not affected. This cannot be undone.</p>}
          confirmLabel="Revoke all"
          busy={working}
          onConfirm={() => void runConfirmed()}
          onCancel={() => setConfirmation(null)}
        />
      ) : null}
    </section>
  );
}
