import { gql, type TypedDocumentNode } from "@apollo/client";
import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useState } from "react";
import { DateTime } from "../components/DateTime";
import { Alert, ErrorAlert, Loading, Status } from "../components/Messages";
import { PasswordField } from "../components/PasswordField";
import { displayNameOf, useCurrentUser } from "../me";

interface MySession {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

const MY_SESSIONS: TypedDocumentNode<{ mySessions: MySession[] }, Record<string, never>> = gql`
  query MySessions {
    mySessions {
      id
      createdAt
      lastSeenAt
      expiresAt
      ip
      userAgent
      current
    }
  }
`;

const CHANGE_MY_PASSWORD: TypedDocumentNode<{ changeMyPassword: boolean }, { currentPassword: string; newPassword: string }> = gql`
  mutation ChangeMyPassword($currentPassword: String!, $newPassword: String!) {
    changeMyPassword(currentPassword: $currentPassword, newPassword: $newPassword)
  }
`;

const END_MY_SESSION: TypedDocumentNode<{ endMySession: boolean }, { id: string }> = gql`
  mutation EndMySession($id: ID!) {
    endMySession(id: $id)
  }
`;

const END_MY_OTHER_SESSIONS: TypedDocumentNode<{ endMyOtherSessions: number }, Record<string, never>> = gql`
  mutation EndMyOtherSessions {
    endMyOtherSessions
  }
`;

/** The rules the server enforces (src/services/password-policy.ts), said before they bite. */
const PASSWORD_RULES =
  "At least 12 characters and at most 72 bytes (72 plain ASCII characters). Not one of the most common passwords, not a short piece repeated, not your email address.";

export function AccountPage() {
  const { me, passwordChangeRequired } = useCurrentUser();
  return (
    <>
      <h1>Account</h1>
      {me && (
        <p>
          Logged in as <strong>{displayNameOf(me)}</strong>
          {me.displayName ? <> ({me.email})</> : null}
          {me.isAdmin ? ", site administrator" : ""}.
        </p>
      )}
      {passwordChangeRequired && (
        <p className="message message-info">
          Your password was reset by an administrator. Choose a new password to continue: until then it works for nothing else.
        </p>
      )}
      <ChangePassword />
      {!passwordChangeRequired && <ActiveSessions />}
    </>
  );
}

function ChangePassword() {
  const { me, passwordChangeRequired, refresh } = useCurrentUser();
  const [change, { loading }] = useMutation(CHANGE_MY_PASSWORD);
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [outcome, setOutcome] = useState<{ ok: true } | { ok: false; error: unknown; message?: string } | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setOutcome(null);
    if (newPassword !== confirmation) {
      setOutcome({ ok: false, error: null, message: "The new password and its confirmation do not match." });
      return;
    }
    try {
      await change({ variables: { currentPassword, newPassword } });
      setCurrentPassword("");
      setNewPassword("");
      setConfirmation("");
      setOutcome({ ok: true });
      if (passwordChangeRequired) await refresh();
    } catch (error) {
      setOutcome({ ok: false, error });
    }
  }

  return (
    <section aria-labelledby="change-password-heading">
      <h2 id="change-password-heading">Change password</h2>
      <form className="form" onSubmit={(event) => void submit(event)} aria-labelledby="change-password-heading">
        {/* For password managers: which account the new password belongs to. */}
        <input type="text" name="username" autoComplete="username" value={me?.email ?? ""} readOnly hidden />
        <PasswordField label="Current password" autoComplete="current-password" value={currentPassword} onChange={setCurrentPassword} />
        <PasswordField label="New password" autoComplete="new-password" rules={PASSWORD_RULES} value={newPassword} onChange={setNewPassword} />
        <PasswordField label="Confirm new password" autoComplete="new-password" value={confirmation} onChange={setConfirmation} />
        {outcome?.ok === true && (
          <Status>
            Password changed.
          </Status>
        )}
        {outcome?.ok === false &&
          (outcome.message ? (
            <Alert>{outcome.message}</Alert>
          ) : (
            <ErrorAlert error={outcome.error} />
          ))}
        <div className="actions">
          <button type="submit" className="primary" disabled={loading}>
            Change password
          </button>
        </div>
        <p className="hint">Changing your password ends your other login sessions. Your API keys keep working.</p>
      </form>
    </section>
  );
}

function ActiveSessions() {
  const sessions = useQuery(MY_SESSIONS, { fetchPolicy: "cache-and-network" });
  const [endOthers, { loading: ending }] = useMutation(END_MY_OTHER_SESSIONS);
  const [endOne, { loading: endingOne }] = useMutation(END_MY_SESSION);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const list = sessions.data?.mySessions;
  const others = list?.filter((session) => !session.current).length ?? 0;

  async function endAllOthers(): Promise<void> {
    setFailure(null);
    try {
      const result = await endOthers();
      const count = result.data?.endMyOtherSessions ?? 0;
      setNotice(count === 1 ? "1 other session ended." : `${count} other sessions ended.`);
      await sessions.refetch();
    } catch (error) {
      setFailure(error);
    }
  }

  async function endSession(session: MySession): Promise<void> {
    setFailure(null);
    try {
      await endOne({ variables: { id: session.id } });
      setNotice(`The session started ${new Date(session.createdAt).toLocaleString()} has ended.`);
      await sessions.refetch();
    } catch (error) {
      setFailure(error);
    }
  }

  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Active sessions</h2>
      <p>Each browser you are logged in with. Ending a session logs that browser out and stops its session keys.</p>
      {notice && (
        <Status>{notice}</Status>
      )}
      {sessions.error && !list && <ErrorAlert error={sessions.error} />}
      {!list && !sessions.error && <Loading />}
      {list && (
        <div className="table-wrap">
          <table>
            <caption>Your login sessions</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Last seen</th>
                <th scope="col">Expires</th>
                <th scope="col">IP</th>
                <th scope="col">Browser</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((session) => (
                <tr key={session.id}>
                  <td>
                    <DateTime value={session.createdAt} />
                    {session.current && <span className="badge badge-info">This session</span>}
                  </td>
                  <td>
                    <DateTime value={session.lastSeenAt} />
                  </td>
                  <td>
                    <DateTime value={session.expiresAt} />
                  </td>
                  <td>{session.ip ?? "—"}</td>
                  <td className="wrap" title={session.userAgent ?? undefined}>
                    {browserSummary(session.userAgent)}
                  </td>
                  <td>
                    {!session.current && (
                      <button type="button" disabled={endingOne} aria-label={`End session started ${new Date(session.createdAt).toLocaleString()}`} onClick={() => void endSession(session)}>
                        End
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {failure != null && <ErrorAlert error={failure} />}
      <div className="actions">
        <button type="button" disabled={!list || others === 0 || ending} onClick={() => void endAllOthers()}>
          End all other sessions
        </button>
      </div>
    </section>
  );
}

/** "Chrome 156 on Linux" from a User-Agent; the whole string is in the cell's title. */
function browserSummary(userAgent: string | null): string {
  if (!userAgent) return "Unknown";
  const browser =
    match(userAgent, /Edg\/(\d+)/, "Edge") ??
    match(userAgent, /OPR\/(\d+)/, "Opera") ??
    match(userAgent, /Firefox\/(\d+)/, "Firefox") ??
    match(userAgent, /HeadlessChrome\/(\d+)/, "Headless Chrome") ??
    match(userAgent, /Chrom(?:e|ium)\/(\d+)/, "Chrome") ??
    match(userAgent, /Version\/(\d+)[^ ]* Safari\//, "Safari") ??
    match(userAgent, /^curl\/([\d.]+)/, "curl") ??
    userAgent.slice(0, 40);
  const os = /Windows/.test(userAgent)
    ? "Windows"
    : /Android/.test(userAgent)
      ? "Android"
      : /iPhone|iPad/.test(userAgent)
        ? "iOS"
        : /Mac OS X/.test(userAgent)
          ? "macOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  return os ? `${browser} on ${os}` : browser;
}

function match(text: string, pattern: RegExp, name: string): string | null {
  const found = pattern.exec(text);
  return found ? `${name} ${found[1]}` : null;
}
