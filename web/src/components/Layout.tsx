import { gql, type TypedDocumentNode } from "@apollo/client";
import { useApolloClient, useMutation } from "@apollo/client/react";
import type { ReactNode } from "react";
import { displayNameOf, type Me } from "../me";
import { Link, navigate, useLocation } from "../router";
import { type MenuEntry, UserMenu } from "./UserMenu";

const LOGOUT: TypedDocumentNode<{ logout: boolean }, Record<string, never>> = gql`
  mutation Logout {
    logout
  }
`;

/** Grids with many columns: the whole window's width, so that they fit without scrolling sideways. */
const WIDE_PAGES: ReadonlySet<string> = new Set(["/admin/keys", "/admin/users"]);

/** Menu entries for everyone, then the site admin's. */
const USER_ENTRIES: MenuEntry[] = [
  { label: "External Tool Access", to: "/access" },
  { label: "Account", to: "/account" },
];
const ADMIN_ENTRIES: MenuEntry[] = [
  { label: "External Tool Settings", to: "/settings" },
  { label: "API Keys", to: "/admin/keys" },
  { label: "Users", to: "/admin/users" },
];

export function useLogout(): () => Promise<void> {
  const client = useApolloClient();
  const [logout] = useMutation(LOGOUT);
  return async () => {
    try {
      await logout();
    } catch {
      // Logged out already (or the server is gone): the cookie is dropped either way on the next login.
    }
    await client.clearStore();
    navigate("/login", { replace: true });
  };
}

export function Layout({ me, restricted, children }: { me: Me | null; restricted: boolean; children: ReactNode }) {
  const logout = useLogout();
  const location = useLocation();
  const entries: MenuEntry[] = restricted
    ? [{ label: "Account", to: "/account" }]
    : [...USER_ENTRIES, ...(me?.isAdmin ? ADMIN_ENTRIES : [])];
  entries.push({ label: "Log out", action: () => void logout() });
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header role="banner" className="site-header">
        <Link to="/access" className="brand">
          API Key Service
        </Link>
        <UserMenu name={displayNameOf(me)} entries={entries} />
      </header>
      <main id="main" className={WIDE_PAGES.has(location.pathname) ? "page page-wide" : "page"} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
