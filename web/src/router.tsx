import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

/**
 * A tiny History-API router: the page paths are few and flat, so a location store, navigate()
 * and a Link that intercepts plain left clicks are all the pages need.
 */
const NAVIGATED = "app:navigated";

export interface AppLocation {
  pathname: string;
  search: string;
}

let cached: AppLocation = read();

function read(): AppLocation {
  return { pathname: window.location.pathname, search: window.location.search };
}

function snapshot(): AppLocation {
  const next = read();
  if (next.pathname !== cached.pathname || next.search !== cached.search) cached = next;
  return cached;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

export function useLocation(): AppLocation {
  return useSyncExternalStore(subscribe, snapshot);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const current = window.location.pathname + window.location.search;
  if (to === current) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The current path with its query: where to come back to after logging in. */
export function currentPath(): string {
  return window.location.pathname + window.location.search;
}

/** `/login?next=<path>`: only same-origin paths are followed (no `//host`, no scheme, no backslash tricks). */
export function safeNextPath(raw: string | null): string | null {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\")) return null;
  try {
    const url = new URL(raw, window.location.origin);
    if (url.origin !== window.location.origin || url.pathname === "/login") return null;
    return url.pathname + url.search + url.hash;
  } catch {
    return null;
  }
}

export function loginPathFor(path: string): string {
  return `/login?next=${encodeURIComponent(path)}`;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

export function Link({ to, onClick, ...rest }: LinkProps) {
  function follow(event: MouseEvent<HTMLAnchorElement>): void {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  }
  return <a href={to} onClick={follow} {...rest} />;
}
