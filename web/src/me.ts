import { gql, type TypedDocumentNode } from "@apollo/client";
import { useQuery } from "@apollo/client/react";
import { createContext, useContext } from "react";
import { isPasswordChangeRequired, isUnauthenticated } from "./errors";

export interface Me {
  id: string;
  email: string;
  displayName: string | null;
  isAdmin: boolean;
  passwordChangeRequired: boolean;
}

export const ME_QUERY: TypedDocumentNode<{ me: Me }, Record<string, never>> = gql`
  query Me {
    me {
      id
      email
      displayName
      isAdmin
      passwordChangeRequired
    }
  }
`;

export type MeState =
  | { status: "loading" }
  | { status: "signed-in"; me: Me }
  /** A password reset by an admin: only changeMyPassword works until it is changed (me is refused). */
  | { status: "password-change-required"; me: Me | null }
  | { status: "signed-out" }
  | { status: "error"; error: unknown; retry: () => void };

/** The signed-in user, from the `me` query (cached after login); refresh() asks the server again. */
export function useMe(): MeState & { refresh: () => Promise<unknown> } {
  const { data, error, loading, refetch } = useQuery(ME_QUERY, { fetchPolicy: "cache-first" });
  return { ...meState(data, error, loading, refetch), refresh: () => refetch().catch(() => undefined) };
}

function meState(data: { me: Me } | undefined, error: unknown, loading: boolean, refetch: () => Promise<unknown>): MeState {
  if (data?.me) return data.me.passwordChangeRequired ? { status: "password-change-required", me: data.me } : { status: "signed-in", me: data.me };
  if (error) {
    if (isUnauthenticated(error)) return { status: "signed-out" };
    if (isPasswordChangeRequired(error)) return { status: "password-change-required", me: null };
    return { status: "error", error, retry: () => void refetch() };
  }
  if (loading) return { status: "loading" };
  return { status: "loading" };
}

export function displayNameOf(me: Me | null): string {
  return me?.displayName?.trim() || me?.email || "Account";
}

/** The user the layout was rendered for; pages below the layout read it from here. */
export interface CurrentUser {
  me: Me | null;
  passwordChangeRequired: boolean;
  /** Reads `me` again (after a password change, say). */
  refresh: () => Promise<unknown>;
}

export const MeContext = createContext<CurrentUser>({ me: null, passwordChangeRequired: false, refresh: async () => undefined });

export function useCurrentUser(): CurrentUser {
  return useContext(MeContext);
}
