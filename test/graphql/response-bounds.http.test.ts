import fs from "node:fs";
import { toSqlDateTime } from "../../src/db/data-source";
import { countQueries } from "../../src/db/query-counter";
import { basic, errorCode, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";
import { type ChildServer, startChildServer } from "../support/child-server";
import { startGraphQLBurst } from "../support/graphql-burst";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { usersOf } from "../support/users";

const KEY_FIELDS = "id hint description createdAt expiresAt lastUsedAt readOnly expired owner { id email displayName isAdmin active createdAt }";
const DESCRIPTION = "d".repeat(256);

async function insertKeys(dataSource: TestDatabase["dataSource"], ownerId: number, count: number, firstRow: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const rows = Array.from({ length: Math.min(100, count - i) }, (_, j) => firstRow + i + j);
    await dataSource.query(
      `INSERT INTO api_keys (owner_id, key_hash, hint, description, created_at, expires_at, read_only) VALUES ${rows.map(() => "(?, ?, 'xta_test…', ?, ?, NULL, 0)").join(", ")}`,
      rows.flatMap((row) => [ownerId, row.toString(16).padStart(64, "0"), DESCRIPTION, toSqlDateTime(new Date(Date.UTC(2026, 0, 1) + row * 1000))]),
    );
  }
}

/** Issue 13.2: 15 aliases of myApiKeys returned 165 MB; 16 such queries at once killed the process. */
describe("list size counts in the cost limit", () => {
  let app: TestApp;
  let user: TestUser;
  let readOnlyKey: string;

  beforeAll(async () => {
    // A cache window long enough that no revocation poll falls inside a request counted below.
    app = await startTestApp({ GRAPHQL_MAX_RESPONSE_BYTES: String(64 * 1024), KEY_CACHE_WINDOW_MS: "5000" });
    user = await app.createUser("lister@example.org");
    await app.setKeysEnabled(true);
    readOnlyKey = (await app.generateKey(user, { readOnly: true })).key;
    await insertKeys(app.db.dataSource, user.id, 200, 1);
  });
  afterAll(async () => {
    await app.close();
  });

  test("myApiKeys aliased 15 times: 400 before any SQL, even from a read-only key", async () => {
    expect((await app.graphql("{ me { id } }", undefined, viaKey(readOnlyKey))).status).toBe(200); // the key is now cached
    for (const first of ["", "(first: 500)"]) {
      const query = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: myApiKeys${first} { ${KEY_FIELDS} }`).join(" ")} }`;
      const counter = countQueries(app.db.dataSource);
      const result = await app.graphql(query, undefined, viaKey(readOnlyKey));
      expect(result.status).toBe(400);
      expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(result.body.data).toBeUndefined();
      expect(counter.statements).toBe(0);
    }
  });

  test("a variable `first` is counted as the largest page, so it cannot hide the size", async () => {
    const query = `query ($n: Int) { ${Array.from({ length: 3 }, (_, i) => `a${i}: myApiKeys(first: $n) { ${KEY_FIELDS} }`).join(" ")} }`;
    const result = await app.graphql(query, { n: 1 }, viaKey(readOnlyKey));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("the everyday listing passes", async () => {
    const result = await app.graphql(`{ myApiKeys(first: 20) { id hint description createdAt expiresAt lastUsedAt readOnly expired } }`, undefined, viaKey(readOnlyKey));
    expect(result.status).toBe(200);
    expect(result.body.data.myApiKeys).toHaveLength(20);
  });

  test("a page larger than one paced slice (50) comes back whole and in order, page and connection alike", async () => {
    const listed = await app.graphql(`{ myApiKeys(first: 201) { id createdAt } myApiKeysPage(first: 120) { nodes { id } } }`, undefined, viaKey(readOnlyKey));
    expect(listed.status).toBe(200);
    const keys = listed.body.data.myApiKeys as Array<{ id: string; createdAt: string }>;
    expect(keys).toHaveLength(201);
    expect(new Set(keys.map((key) => key.id)).size).toBe(201);
    expect(keys.map((key) => key.createdAt)).toEqual(keys.map((key) => key.createdAt).sort().reverse());
    expect(listed.body.data.myApiKeysPage.nodes.map((node: { id: string }) => node.id)).toEqual(keys.slice(0, 120).map((key) => key.id));
  });

  test("a result larger than GRAPHQL_MAX_RESPONSE_BYTES is refused, not sent", async () => {
    const result = await app.graphql(`{ myApiKeys(first: 200) { ${KEY_FIELDS} } }`, undefined, viaKey(readOnlyKey));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("RESPONSE_TOO_LARGE");
    expect(result.body.data).toBeUndefined();
    expect(JSON.stringify(result.body)).not.toContain(DESCRIPTION);
  });
});

describe("the largest queries allowed, 16 at once, on a server in its own process", () => {
  let db: TestDatabase;
  let server: ChildServer;
  const admin = { email: "bulk-admin@example.org", password: "bulk-admin-Secret-1" };
  const auth = "Basic " + Buffer.from(`${admin.email}:${admin.password}`).toString("base64");
  // The largest page of every field: the most one operation may ask for under the default limits.
  const query = `{ apiKeys(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { ${KEY_FIELDS} } } }`;
  const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.process.pid}/status`, "utf8"))![1]) / 1024;
  const healthz = async () => {
    const started = performance.now();
    const response = await fetch(`${server.base}/healthz`);
    await response.text();
    expect(response.status).toBe(200);
    return performance.now() - started;
  };
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const median = (values: number[]) => sorted(values)[values.length >> 1];
  const p95 = (values: number[]) => sorted(values)[Math.ceil(values.length * 0.95) - 1];

  beforeAll(async () => {
    db = await createTestDatabase();
    const created = await usersOf(db.dataSource).create({ ...admin, isAdmin: true });
    await insertKeys(db.dataSource, created.id, 1000, 1);
    server = await startChildServer({ DATABASE_URL: db.url, BCRYPT_COST: "4", BCRYPT_MAX_PER_CLIENT: "100", BCRYPT_QUEUE_MAX: "100" });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await db.destroy();
  });

  test("/healthz keeps answering within 100 ms (median and p95) and RSS stays under 300 MB", async () => {
    if (!fs.existsSync(`/proc/${server.process.pid}/status`)) {
      console.log("skipped: no /proc on this system to read the server's RSS");
      return;
    }
    const burst = { url: server.url, authorization: auth, query, count: 16, listPath: ["apiKeys", "nodes"] };
    // Warm-up: every code path compiled before anything is timed.
    expect(await startGraphQLBurst({ ...burst, count: 1 }).done).toEqual([{ status: 200, items: 500 }]);
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await healthz());

    // The 16 queries are sent, and their answers parsed, by another process: this one only probes,
    // so what it times is the server's answer, not its own event loop.
    let peakRss = rssMb();
    const during: number[] = [];
    const load = startGraphQLBurst(burst);
    await load.sent;
    let running = true;
    const finished = load.done.finally(() => (running = false));
    while (running) {
      peakRss = Math.max(peakRss, rssMb());
      during.push(await healthz());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await finished).toEqual(Array(16).fill({ status: 200, items: 500 }));
    peakRss = Math.max(peakRss, rssMb());
    for (let i = 0; i < 20; i++) idle.push(await healthz());
    const report = `/healthz idle: median ${median(idle).toFixed(1)} ms; under load (${during.length} probes): median ${median(during).toFixed(1)} ms, p95 ${p95(during).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms; peak RSS ${peakRss.toFixed(0)} MB`;
    console.log(report);
    expect(peakRss).toBeLessThan(300);
    expect(during.length).toBeGreaterThanOrEqual(20);
    // 100 ms is the bound. On shared cores a busy neighbour slows even idle probes (medians of 10 to
    // 30 ms were seen); then the bound is 10 times this run's idle median (probed before and after
    // the load) instead. Both fail a server whose event loop the queries hold: unpaced, p95 was
    // 300 to 1,900 ms, 18 to 60 times the idle median.
    const bound = Math.max(100, 10 * median(idle));
    expect({ report, median: median(during) < bound, p95: p95(during) < bound }).toEqual({ report, median: true, p95: true });
  }, 180_000);
});
