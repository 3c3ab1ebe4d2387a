import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { ErrorLink } from "@apollo/client/link/error";
import { isUnauthenticated } from "./errors";
import { currentPath, loginPathFor, navigate } from "./router";

/** Operations whose 401 is an answer for the page itself (a wrong password), not a lost session. */
const OWN_401_OPERATIONS = new Set(["Login", "Logout"]);

/**
 * The pages' GraphQL client. Every request sends `x-requested-with: XMLHttpRequest`: the server
 * then answers 401 without `WWW-Authenticate: Basic`, so the browser never opens its own password
 * dialog. The session is the same-origin cookie; nothing is kept in web storage.
 */
export function createApolloClient(): ApolloClient {
  const http = new HttpLink({
    uri: "/graphql",
    credentials: "same-origin",
    headers: { "x-requested-with": "XMLHttpRequest" },
  });

  // A session that ended (expired, logged out elsewhere, password changed): back to the login
  // page, then back here after logging in.
  const sessionEnded = new ErrorLink(({ error, operation }) => {
    if (OWN_401_OPERATIONS.has(operation.operationName ?? "")) return;
    if (!isUnauthenticated(error)) return;
    if (window.location.pathname === "/login") return;
    navigate(loginPathFor(currentPath()), { replace: true });
  });

  return new ApolloClient({
    link: ApolloLink.from([sessionEnded, http]),
    cache: new InMemoryCache(),
    defaultOptions: {
      watchQuery: { fetchPolicy: "cache-and-network" },
    },
  });
}
