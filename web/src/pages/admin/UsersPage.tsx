import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Dialog } from "../../components/Dialog";
import { Alert, type Notice, NoticeMessage } from "../../components/Messages";
import { PasswordField } from "../../components/PasswordField";
import { SecretField } from "../../components/Secret";
import { describeError } from "../../errors";
import { DateTime } from "../../components/DateTime";
import { useCurrentUser } from "../../me";
import {
  type AdminUser,
  CREATE_USER,
  DELETE_USER,
  RESET_USER_PASSWORD,
  SET_USER_ACTIVE,
  USERS_QUERY,
} from "./documents";
import "./admin.css";
import { type CursorStack, FIRST_PAGE, countOf, currentCursor, nextPage, pageNumber, previousPage } from "./grid-logic";

const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 300;

/** One message at a time on the page, shown where the action was: the list, or the create form. */
type PlacedNotice = (Notice & { at: "list" | "create" }) | null;

/** Users (admin): the paged list, create, deactivate/activate, reset password, delete. */
export function UsersPage() {
  const { me } = useCurrentUser();
  const [search, setSearch] = useState("");
  const [appliedSearch, setAppliedSearch] = useState("");
  const [cursors, setCursors] = useState<CursorStack>(FIRST_PAGE);
  const [notice, setNotice] = useState<PlacedNotice>(null);
  const [oneTimePassword, setOneTimePassword] = useState<{ email: string; password: string } | null>(null);
  const [deleting, setDeleting] = useState<AdminUser | null>(null);
  const [resetting, setResetting] = useState<{ user: AdminUser; error?: unknown } | null>(null);
  const [busyUserId, setBusyUserId] = useState<string | null>(null);
  const searchId = useId();

  const variables = {
    filter: appliedSearch ? { emailContains: appliedSearch } : null,
    first: PAGE_SIZE,
    after: currentCursor(cursors),
  };
  const { data, previousData, error, loading, refetch } = useQuery(USERS_QUERY, {
    variables,
    fetchPolicy: "cache-and-network",
  });
  const page = (data ?? previousData)?.users;

  const [setUserActive] = useMutation(SET_USER_ACTIVE);
  const [resetUserPassword, { loading: resettingNow }] = useMutation(RESET_USER_PASSWORD);
  const [deleteUser, { loading: deletingNow }] = useMutation(DELETE_USER);

  // Typing searches after a short pause; Enter or the button searches at once.
  useEffect(() => {
    const trimmed = search.trim();
    if (trimmed === appliedSearch) return;
    const timer = window.setTimeout(() => applySearch(trimmed), SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [search, appliedSearch]);

  function applySearch(value: string): void {
    setAppliedSearch(value);
    setCursors(FIRST_PAGE);
  }

  function submitSearch(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    applySearch(search.trim());
  }

  async function toggleActive(user: AdminUser): Promise<void> {
    setNotice(null);
    setBusyUserId(user.id);
    try {
      await setUserActive({ variables: { id: user.id, active: !user.active } });
      setNotice({ kind: "status", text: `${user.email} ${user.active ? "deactivated" : "activated"}.`, at: "list" });
    } catch (failure) {
      setNotice({ kind: "alert", text: describeError(failure).message, at: "list" });
    } finally {
      setBusyUserId(null);
    }
  }

  async function confirmReset(): Promise<void> {
    if (!resetting || resettingNow) return;
    const { user } = resetting;
    try {
      const result = await resetUserPassword({ variables: { id: user.id } });
      setResetting(null);
      if (result.data) setOneTimePassword({ email: user.email, password: result.data.resetUserPassword });
    } catch (failure) {
      // Nothing changed: the dialog stays open and says why, for another try or Cancel.
      setResetting({ user, error: failure });
    }
  }

  async function confirmDelete(): Promise<void> {
    if (!deleting || deletingNow) return;
    const user = deleting;
    try {
      await deleteUser({ variables: { id: user.id } });
      setDeleting(null);
      setNotice({ kind: "status", text: `${user.email} deleted.`, at: "list" });
      await refetch();
    } catch (failure) {
      // The server refuses, e.g., the last active admin or one's own account: say why, plainly.
      setDeleting(null);
      setNotice({ kind: "alert", text: describeError(failure).message, at: "list" });
    }
  }

  const rows = page?.nodes ?? [];
  const hasPrevious = pageNumber(cursors) > 1;
  const hasNext = Boolean(page?.pageInfo.hasNextPage && page.pageInfo.endCursor);

  return (
    <section className="admin-page users-page" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>

      <form role="search" className="form form-inline" onSubmit={submitSearch}>
        <div className="field">
          <label htmlFor={searchId}>Search by email</label>
          <input id={searchId} type="search" value={search} onChange={(event) => setSearch(event.target.value)} autoComplete="off" />
        </div>
        <button type="submit">
          Search
        </button>
      </form>

      {notice?.at === "list" ? <NoticeMessage notice={notice} /> : null}
      {error ? (
        <Alert>
          The users could not be loaded: {describeError(error).message}
        </Alert>
      ) : null}

      {page ? (
        <p className="count" aria-live="polite">
          {countOf(page.totalCount, "user", "users")}
          {appliedSearch ? ` match “${appliedSearch}”` : ""}
          {pageNumber(cursors) > 1 ? ` · page ${pageNumber(cursors)}` : ""}
        </p>
      ) : loading ? (
        <p>Loading users…</p>
      ) : null}

      <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="users-caption">
        <table className="table" aria-busy={loading}>
          <caption id="users-caption">Users</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Admin</th>
              <th scope="col">Active</th>
              <th scope="col">Keys</th>
              <th scope="col">Last activity</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && page ? (
              <tr>
                <td colSpan={7}>{appliedSearch ? "Nobody matches this search." : "No users."}</td>
              </tr>
            ) : null}
            {rows.map((user) => {
              const isMe = me?.id === user.id;
              const busy = busyUserId === user.id;
              return (
                <tr key={user.id} className={user.active ? undefined : "row-muted"}>
                  <th scope="row" className="cell-email">
                    {user.email}
                    {isMe ? <span className="badge badge-neutral">You</span> : null}
                  </th>
                  <td>{user.displayName ?? ""}</td>
                  <td>{user.isAdmin ? "Yes" : "No"}</td>
                  <td>{user.active ? "Yes" : "No"}</td>
                  <td>
                    {user.keyCount}
                    {user.keyCount > user.activeKeyCount ? (
                      <span className="hint"> ({user.keyCount - user.activeKeyCount} expired)</span>
                    ) : null}
                  </td>
                  <td><DateTime value={user.lastActivityAt} empty="Never" /></td>
                  <td>
                    <div className="row-actions">
                    <button
                      type="button"
                      className="small"
                      aria-label={`${user.active ? "Deactivate" : "Activate"} ${user.email}`}
                      aria-disabled={busy || undefined}
                      onClick={() => void (busy ? undefined : toggleActive(user))}
                    >
                      {user.active ? "Deactivate" : "Activate"}
                    </button>
                    <button
                      type="button"
                      className="small"
                      aria-label={`Reset password for ${user.email}`}
                      onClick={() => {
                        setNotice(null);
                        setResetting({ user });
                      }}
                    >
                      Reset password
                    </button>
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Delete ${user.email}`}
                      onClick={() => {
                        setNotice(null);
                        setDeleting(user);
                      }}
                    >
                      Delete
                    </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <nav className="pager" aria-label="Users pages">
        <button type="button" disabled={!hasPrevious} onClick={() => setCursors(previousPage(cursors))}>
          Previous page
        </button>
        <button
          type="button"
         
          disabled={!hasNext}
          onClick={() => page && setCursors(nextPage(cursors, page.pageInfo.endCursor))}
        >
          Next page
        </button>
      </nav>

      <CreateUserForm
        notice={notice?.at === "create" ? notice : null}
        onNotice={(kind, text) => setNotice(kind ? { kind, text: text ?? "", at: "create" } : null)}
        onCreated={() => void refetch()}
      />

      {oneTimePassword ? (
        <Dialog title="One-time password" onClose={() => setOneTimePassword(null)}>
          <OneTimePassword {...oneTimePassword} onDone={() => setOneTimePassword(null)} />
        </Dialog>
      ) : null}

      {resetting ? (
        <ConfirmDialog
          title={`Reset the password of ${resetting.user.email}?`}
          consequence={
            <p>
              Their current password stops working at once and their login sessions end. You are shown a one-time password to give
              them; with it they can only choose a new password. Their API keys keep working.
            </p>
          }
          confirmLabel="Reset password"
          busy={resettingNow}
          error={resetting.error}
          onConfirm={() => void confirmReset()}
          onCancel={() => setResetting(null)}
        />
      ) : null}

      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting.email}?`}
          consequence={
            <p>
              {deleting.keyCount === 1 ? "Their 1 API key is deleted too." : `Their ${deleting.keyCount} API keys are deleted too.`} Their login
              sessions end. The audit trail keeps what they did. This cannot be undone.
            </p>
          }
          confirmLabel="Delete user"
          busy={deletingNow}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setDeleting(null)}
        />
      ) : null}
    </section>
  );
}

function OneTimePassword({ email, password, onDone }: { email: string; password: string; onDone: () => void }) {
  return (
    <>
      <p>
        Give this password to {email} over a channel you trust. It works once: at the next login they must choose a new
        password. Their login sessions have ended; their API keys keep working.
      </p>
      <SecretField label="One-time password" value={password} />
      <p className="warning">This password will not be shown again.</p>
      <div className="actions">
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
    </>
  );
}

const PASSWORD_RULES =
  "At least 12 characters (at most 72 bytes), not one of the most common passwords, not a short piece repeated, and not the email address.";


interface CreateUserFormProps {
  notice: PlacedNotice;
  onNotice: (kind: "status" | "alert" | null, text?: string) => void;
  onCreated: () => void;
}

function CreateUserForm({ notice, onNotice, onCreated }: CreateUserFormProps) {
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [isAdmin, setIsAdmin] = useState(false);
  const [createUser, { loading }] = useMutation(CREATE_USER);
  const emailRef = useRef<HTMLInputElement>(null);
  const ids = { heading: useId(), email: useId(), name: useId(), admin: useId() };

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (loading) return;
    onNotice(null);
    try {
      await createUser({
        variables: { input: { email: email.trim(), password, displayName: displayName.trim() || null, isAdmin } },
      });
      setEmail("");
      setDisplayName("");
      setPassword("");
      setIsAdmin(false);
      onNotice("status", "User created.");
      onCreated();
      emailRef.current?.focus();
    } catch (failure) {
      // The server's messages name the field and the rule ("password must be at least 12 characters.").
      onNotice("alert", describeError(failure).message);
    }
  }

  return (
    <form className="form create-user-form" aria-labelledby={ids.heading} onSubmit={(event) => void submit(event)} noValidate>
      <h2 id={ids.heading}>Create user</h2>
      <div className="field">
        <label htmlFor={ids.email}>Email</label>
        <input
          ref={emailRef}
          id={ids.email}
          type="email"
          autoComplete="off"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.name}>Name</label>
        <input id={ids.name} type="text" autoComplete="off" maxLength={256} value={displayName} onChange={(event) => setDisplayName(event.target.value)} />
      </div>
      <PasswordField label="Password" autoComplete="new-password" rules={PASSWORD_RULES} value={password} onChange={setPassword} />
      <div className="field field-checkbox">
        <input id={ids.admin} type="checkbox" checked={isAdmin} onChange={(event) => setIsAdmin(event.target.checked)} />
        <label htmlFor={ids.admin}>Administrator</label>
      </div>
      <div className="actions">
        <button type="submit" className="primary">
          Create user
        </button>
      </div>
      {notice ? <NoticeMessage notice={notice} /> : null}
    </form>
  );
}
