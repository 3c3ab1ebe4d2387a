import autocannon from "autocannon";
import type { Stats } from "../servers/ipc";
import type { ServerChild } from "./children";

export interface LoadSpec {
  server: ServerChild;
  connections: number;
  body: string;
  /** Extra headers, one set drawn at random per request (e.g. a random key each time). */
  headerPool?: Array<Record<string, string>>;
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  cpuMicrosPerRequest: number;
  peakRssMB: number;
  sqlPerRequest: number;
  selectsPerRequest: number;
  writesPerRequest: number;
  unexpected: number;
}

/** Drives one scenario for `seconds` and reads the server's own CPU, RSS and SQL counters around it. */
export async function drive(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  const base = { "content-type": "application/json" };
  const pool = spec.headerPool;
  const before = await spec.server.stats({ gc: true });
  const result = await autocannon({
    url: spec.server.url,
    connections: spec.connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: "POST",
        path: "/graphql",
        headers: base,
        body: spec.body,
        ...(pool ? { setupRequest: (req: any) => ({ ...req, headers: { ...base, ...pool[Math.floor(Math.random() * pool.length)] } }) } : {}),
      },
    ],
  });
  // Requests still in flight when autocannon stops are served anyway: wait until the server is
  // idle, and divide its counters by the requests sent, not only those answered in the window.
  const after = await settle(spec.server);
  const requests = result.requests.total;
  const sent = Math.max(result.requests.sent, requests);
  const expected2xx = spec.expectStatus < 300;
  const wrongStatus = expected2xx ? result.non2xx : result["2xx"];
  return {
    requests,
    rps: requests / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicrosPerRequest: sent ? (after.cpuMicros - before.cpuMicros) / sent : NaN,
    peakRssMB: after.peakRss / 1048576,
    sqlPerRequest: sent ? (after.statements - before.statements) / sent : NaN,
    selectsPerRequest: sent ? (after.reads - before.reads) / sent : NaN,
    writesPerRequest: sent ? (after.writes - before.writes) / sent : NaN,
    unexpected: wrongStatus + result.errors + result.timeouts,
  };
}

async function settle(server: ServerChild): Promise<Stats> {
  let previous = await server.stats();
  for (let i = 0; i < 150; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await server.stats();
    // Idle: no new statement and under 3 ms of CPU in 100 ms (the stats call and the RSS sampler).
    if (current.statements === previous.statements && current.cpuMicros - previous.cpuMicros < 3000) return current;
    previous = current;
  }
  return previous;
}

/** One request, checked, before load: a scenario that answers the wrong thing must not be measured. */
export async function probe(server: ServerChild, body: string, headers: Record<string, string>, expectStatus: number, check: (json: any) => boolean): Promise<void> {
  const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // reported below
  }
  if (response.status !== expectStatus || !check(json)) {
    throw new Error(`${server.name}: probe expected ${expectStatus}, got ${response.status}: ${text.slice(0, 300)}`);
  }
}

/**
 * Logs each user in through the service's login mutation and returns their session cookies as
 * Cookie headers: what a browser sends after logging in.
 */
export async function loginCookies(server: ServerChild, emails: string[], password: string): Promise<Array<Record<string, string>>> {
  const cookies: Array<Record<string, string>> = [];
  for (const email of emails) {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { id } }", variables: { email, password } }),
    });
    const session = response.headers.getSetCookie().find((line) => /^(__Host-)?xta_session=/.test(line));
    await response.text();
    if (response.status !== 200 || !session) throw new Error(`${server.name}: login of ${email} failed with HTTP ${response.status}`);
    cookies.push({ cookie: session.split(";")[0] });
  }
  return cookies;
}
