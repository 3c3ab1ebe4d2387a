import type { ComponentType } from "react";
// One import line per page: the admin pages (branch admin-pages) replace only their own files.
import { AccessPage } from "./pages/AccessPage";
import { AccountPage } from "./pages/AccountPage";
import { KeysPage } from "./pages/admin/KeysPage";
import { SettingsPage } from "./pages/admin/SettingsPage";
import { UsersPage } from "./pages/admin/UsersPage";

export interface PageRoute {
  path: string;
  /** The document title (the header brand is the product name). */
  title: string;
  page: ComponentType;
  /** Site admins only: anyone else sees "Not allowed". */
  admin?: boolean;
}

/** The signed-in pages (the login page is outside the layout). The server answers index.html for each path. */
export const ROUTES: readonly PageRoute[] = [
  { path: "/access", title: "External Tool Access", page: AccessPage },
  { path: "/account", title: "Account", page: AccountPage },
  { path: "/settings", title: "External Tool Settings", page: SettingsPage, admin: true },
  { path: "/admin/keys", title: "API Keys", page: KeysPage, admin: true },
  { path: "/admin/users", title: "Users", page: UsersPage, admin: true },
];

export const HOME_PATH = "/access";

export function routeFor(pathname: string): PageRoute | undefined {
  const normalized = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  return ROUTES.find((route) => route.path === normalized);
}
