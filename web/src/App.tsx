import { useEffect, useRef } from "react";
import { Layout } from "./components/Layout";
import { ErrorAlert, Loading } from "./components/Messages";
import { MeContext, useMe } from "./me";
import { LoginPage } from "./pages/LoginPage";
import { NotAllowed } from "./pages/NotAllowed";
import { NotFound } from "./pages/NotFound";
import { currentPath, loginPathFor, navigate, useLocation } from "./router";
import { HOME_PATH, routeFor } from "./routes";

export function App() {
  const { pathname, search } = useLocation();
  useEffect(() => {
    if (pathname === "/") navigate(HOME_PATH, { replace: true });
  }, [pathname]);
  if (pathname === "/login") return <LoginPage search={search} />;
  if (pathname === "/") return null;
  return <SignedInPages pathname={pathname} />;
}

function SignedInPages({ pathname }: { pathname: string }) {
  const state = useMe();
  const mustChangePassword = state.status === "password-change-required";

  useEffect(() => {
    if (state.status === "signed-out") navigate(loginPathFor(currentPath()), { replace: true });
    if (mustChangePassword && pathname !== "/account") navigate("/account", { replace: true });
  }, [state.status, mustChangePassword, pathname]);

  const route = routeFor(pathname);
  useEffect(() => {
    document.title = `${route?.title ?? "Page not found"} · API Key Service`;
  }, [route]);

  // After a navigation (not the first page), focus the new page's main region for screen readers.
  const firstPath = useRef(pathname);
  useEffect(() => {
    if (pathname === firstPath.current) return;
    firstPath.current = "";
    const main = document.getElementById("main");
    if (main && !main.contains(document.activeElement) && document.activeElement?.closest("[role=menu]") == null) main.focus({ preventScroll: true });
  }, [pathname]);

  if (state.status === "loading" || state.status === "signed-out") return <Loading />;
  if (state.status === "error") {
    return (
      <main id="main" className="page">
        <h1>Something went wrong</h1>
        <ErrorAlert error={state.error} />
        <button type="button" onClick={state.retry}>
          Try again
        </button>
      </main>
    );
  }
  if (mustChangePassword && pathname !== "/account") return <Loading />;

  const me = state.me;
  let content;
  if (!route) content = <NotFound />;
  else if (route.admin && !me?.isAdmin) content = <NotAllowed />;
  else content = <route.page />;

  return (
    <MeContext.Provider value={{ me, passwordChangeRequired: mustChangePassword, refresh: state.refresh }}>
      <Layout me={me} restricted={mustChangePassword}>
        {content}
      </Layout>
    </MeContext.Provider>
  );
}
