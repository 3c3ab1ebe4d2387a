/** `session`: a login session's cookie; `sessionkey`: a key bound to one (src/auth/sessions/). */
export type AuthMethod = "apikey" | "password" | "session" | "sessionkey";

/** Who is making the request, as established once per request by the authenticator. */
export interface Identity {
  userId: number;
  email: string;
  isAdmin: boolean;
  method: AuthMethod;
  /** Set when the request came with an API key. */
  keyId: number | null;
  /** Set when the request came with a session cookie or a session key: the session it belongs to. */
  sessionId?: number;
  /** A read-only key may run queries only. */
  readOnly: boolean;
  /**
   * A password an admin reset, not yet changed: good for changeMyPassword only. Never set for an
   * API key: keys are separate credentials and keep working.
   */
  passwordChangeRequired?: boolean;
  /**
   * The rest of the user's row, when the authenticator read it in its own statement (API keys):
   * `me` answers from it instead of reading the user again.
   */
  profile?: { displayName: string | null; createdAt: Date };
}
