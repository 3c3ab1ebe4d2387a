import type { ReactNode } from "react";
import { describeError } from "../errors";

/** A failure, announced at once (role=alert). The server's GraphQL messages are user-safe. */
export function ErrorAlert({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  const { message } = describeError(error);
  return (
    <p role="alert" className="message message-error">
      {prefix ? `${prefix}${message}` : message}
    </p>
  );
}

export function Alert({ children }: { children: ReactNode }) {
  return (
    <p role="alert" className="message message-error">
      {children}
    </p>
  );
}

/** A success, announced politely. Keep the element mounted and change its text where possible. */
export function Status({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="message message-ok">
      {children}
    </p>
  );
}

/** What an action left to say: a success (status) or a failure (alert). */
export interface Notice {
  kind: "status" | "alert";
  text: string;
}

export function NoticeMessage({ notice }: { notice: Notice }) {
  return notice.kind === "status" ? <Status>{notice.text}</Status> : <Alert>{notice.text}</Alert>;
}

export function Loading({ what = "Loading…" }: { what?: string }) {
  return (
    <p className="loading" aria-live="polite">
      {what}
    </p>
  );
}
