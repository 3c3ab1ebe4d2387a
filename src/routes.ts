/** Every path the server answers; anything else is 404 (and counted as route "other"). */
export const KNOWN_ROUTES: ReadonlySet<string> = new Set(["/graphql", "/healthz", "/readyz", "/metrics"]);
