/**
 * `npm run bench`: seeds its own databases, starts each server as a child process (pinned to CPU 0
 * where taskset exists; the load generator runs here, pinned to CPU 1), drives every scenario with
 * autocannon interleaved over rounds (A B C … A B C …), and writes bench/results/<stamp>.md, .json
 * and .png. Numbers are medians over rounds; a ratio is the median of its per-round ratios.
 *
 * Servers run compiled (tsc into .bench-build/) with NODE_ENV=production, as `npm start` runs them.
 *
 * Flags (or env): --duration s (BENCH_DURATION, 2), --rounds n (BENCH_ROUNDS, 7), --db sqlite,mariadb
 * (BENCH_DBS), --big-keys n (BENCH_BIG_KEYS, 1000000), --revoke-keys n (BENCH_REVOKE_KEYS, 100000),
 * --keys n (BENCH_KEYS, 1000), --users n (BENCH_USERS, 100), --connections n (BENCH_CONNECTIONS, 50),
 * --warmup s (BENCH_WARMUP, 1), --out dir (BENCH_OUT, bench/results), --no-pin, --no-quiesce,
 * --only id,id (BENCH_ONLY: measure only these scenarios; revokeAllApiKeys is one of the ids).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ApiKeyOrder, type ApiKeyFilterInput, listCursorTag, listFingerprint, normaliseFilter } from "../src/services/api-key-listing";
import { encodeCursor } from "../src/services/cursor";
import { pin, type ServerChild, startServer } from "./lib/children";
import { createBenchDatabase, type BenchDatabase, type DbKind, madeUpKey, seed, seedKeysOnly, seedNaiveKeys } from "./lib/databases";
import { waitForDatabaseIdle } from "./lib/quiesce";
import { drive, loginCookies, type LoadResult, probe } from "./lib/load";
import { renderBenchChart } from "./lib/chart";
import { median, writeBenchReport } from "./lib/report";
import type { BenchOptions, BenchReport, ScenarioResult } from "./lib/types";

export type { BenchOptions, BenchReport, ScenarioResult } from "./lib/types";


export function benchOptions(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const flag = (name: string, envName: string, fallback: string): string => {
    const index = argv.indexOf(`--${name}`);
    if (index >= 0 && argv[index + 1] !== undefined) return argv[index + 1];
    return env[envName] ?? fallback;
  };
  const number = (name: string, envName: string, fallback: number) => {
    const value = Number(flag(name, envName, String(fallback)));
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
    return value;
  };
  const dbs = flag("db", "BENCH_DBS", "sqlite,mariadb").split(",").map((s) => s.trim()) as DbKind[];
  for (const db of dbs) if (db !== "sqlite" && db !== "mariadb") throw new Error(`--db: unknown database ${db}`);
  const only = flag("only", "BENCH_ONLY", "");
  return {
    duration: number("duration", "BENCH_DURATION", 2),
    rounds: Math.max(1, Math.round(number("rounds", "BENCH_ROUNDS", 7))),
    dbs,
    bigKeys: Math.max(2, Math.round(number("big-keys", "BENCH_BIG_KEYS", 1_000_000))),
    revokeKeys: Math.max(1, Math.round(number("revoke-keys", "BENCH_REVOKE_KEYS", 100_000))),
    keys: Math.max(1, Math.round(number("keys", "BENCH_KEYS", 1000))),
    users: Math.max(2, Math.round(number("users", "BENCH_USERS", 100))),
    connections: Math.max(1, Math.round(number("connections", "BENCH_CONNECTIONS", 50))),
    warmup: number("warmup", "BENCH_WARMUP", 1),
    out: flag("out", "BENCH_OUT", path.join(__dirname, "results")),
    pin: !argv.includes("--no-pin") && env.BENCH_PIN !== "0",
    quiesce: !argv.includes("--no-quiesce") && env.BENCH_QUIESCE !== "0",
    naiveKeys: Math.max(1, Math.round(number("naive-keys", "BENCH_NAIVE_KEYS", 20))),
    passwordCost: Math.min(15, Math.max(4, Math.round(number("password-cost", "BENCH_PASSWORD_COST", 12)))),
    only: only ? only.split(",").map((s) => s.trim()) : undefined,
  };
}

const PASSWORD = "bench-password-not-secret";
const ME_BODY = JSON.stringify({ query: "{ me { id email } }" });
const ME_ID_BODY = JSON.stringify({ query: "{ me { id } }" });
const ANON_BODY = JSON.stringify({ query: "{ externalToolSettings { apiKeysEnabled } }" });
const REVOKE_ALL = "revokeAllApiKeys";
const HELLO_BODY = JSON.stringify({ query: "{ hello }" });
const LIST_FIELDS = "totalCount nodes { id hint description createdAt lastUsedAt owner { email } } pageInfo { hasNextPage endCursor }";
const basicHeader = (user: string, password: string) => ({ authorization: "Basic " + Buffer.from(`${user}:${password}`).toString("base64") });

interface Scenario {
  id: string;
  db: DbKind | null;
  server: ServerChild;
  connections: number;
  body: string;
  headerPool?: Array<Record<string, string>>;
  expectStatus: number;
  note: string;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const startedAt = new Date();
  const pinned = options.pin && pin(process.pid, 1);
  const cpu = pinned ? 0 : undefined;
  const children: ServerChild[] = [];
  const databases: BenchDatabase[] = [];
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "xta-bench-"));
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "?", node: process.version, pinned, totalMemMB: Math.round(os.totalmem() / 1048576) },
    options: { ...options, log: undefined } as BenchReport["options"],
    scenarios: [],
    revokeAll: [],
    quiesceWaitsMs: [],
    seeding: [],
    ratios: [],
  };
  const start = async (name: string, file: string, env: Record<string, string> = {}) => {
    const child = await startServer(name, file, { BENCH_LOG_FILE: path.join(logDir, `${name}.log`), LAST_USED_FLUSH_INTERVAL_MS: "10000", ...env }, { cpu });
    children.push(child);
    return child;
  };
  const quiesce = async (when: string) => {
    if (!options.quiesce || !options.dbs.includes("mariadb")) return;
    const { waitedMs, idle } = await waitForDatabaseIdle();
    report.quiesceWaitsMs.push(waitedMs);
    if (idle !== null) log(`${when}: waited ${(waitedMs / 1000).toFixed(1)} s for MariaDB to go idle${idle ? "" : " (gave up)"}`);
  };
  const newDatabase = async (kind: DbKind, label: string) => {
    const db = await createBenchDatabase(kind, label);
    databases.push(db);
    return db;
  };

  try {
    const scenarios: Scenario[] = [];
    const revokeTargets: Array<{ db: DbKind; database: BenchDatabase; server: ServerChild; adminKey: string; nextId: number }> = [];
    log("starting baselines");
    const [http, apollo, apolloLean] = await Promise.all([start("baseline-http", "baseline-http"), start("baseline-apollo", "baseline-apollo"), start("apollo-lean", "apollo-lean")]);
    scenarios.push({ id: "baseline-http", db: null, server: http, connections: options.connections, body: HELLO_BODY, expectStatus: 200, note: "bare node:http, fixed body (the physical limit)" });
    scenarios.push({ id: "baseline-apollo", db: null, server: apollo, connections: options.connections, body: HELLO_BODY, expectStatus: 200, note: "bare @apollo/server 5 standalone, { hello } (the framework limit)" });
    scenarios.push({ id: "apollo-lean", db: null, server: apolloLean, connections: options.connections, body: HELLO_BODY, expectStatus: 200, note: "@apollo/server 5 behind plain node:http, { hello } (what our HTTP layer starts from)" });
    await probe(apollo, HELLO_BODY, {}, 200, (json) => json?.data?.hello === "world");
    await probe(apolloLean, HELLO_BODY, {}, 200, (json) => json?.data?.hello === "world");

    for (const kind of options.dbs) {
      log(`[${kind}] seeding ${options.keys} keys, ${options.bigKeys} keys, ${options.revokeKeys} keys`);
      const small = await newDatabase(kind, "small");
      const smallSeed = await seed(small, { users: options.users, realKeys: options.keys, totalKeys: options.keys + 1, password: PASSWORD, bcryptCost: options.passwordCost });
      report.seeding.push({ db: kind, what: "keys for apikey-*", rows: options.keys + 1, ms: smallSeed.seedMs });
      const naiveKeys = await seedNaiveKeys(small, options.naiveKeys, options.users);
      const big = await newDatabase(kind, "big");
      const bigSeed = await seed(big, { users: options.users, realKeys: options.keys, totalKeys: options.bigKeys, password: PASSWORD, bcryptCost: 4 });
      report.seeding.push({ db: kind, what: "keys for apikey-1M / admin-list-1M", rows: options.bigKeys, ms: bigSeed.seedMs });
      const revokeDb = await newDatabase(kind, "revoke");
      const revokeSeed = await seed(revokeDb, { users: options.users, realKeys: 0, totalKeys: options.revokeKeys, password: PASSWORD, bcryptCost: 4 });
      report.seeding.push({ db: kind, what: "keys for revokeAllApiKeys", rows: options.revokeKeys, ms: revokeSeed.seedMs });
      log(`[${kind}] seeded in ${smallSeed.seedMs} / ${bigSeed.seedMs} / ${revokeSeed.seedMs} ms; starting servers`);

      // The same service with the key cache off: every key request does its one lookup.
      const [service, serviceBig, naive, serviceRevoke, serviceNoCache, serviceBigNoCache, serviceLogin] = await Promise.all([
        // Passwords checked at the seeded cost (no rehash), and the password scenario's connections,
        // all from this one address, let into the line before bcrypt (BCRYPT_MAX_PER_CLIENT is 2).
        start(`service-${kind}`, "service", { DATABASE_URL: small.url, BCRYPT_COST: String(options.passwordCost), BCRYPT_MAX_PER_CLIENT: "64", BCRYPT_QUEUE_MAX: "64" }),
        start(`service-big-${kind}`, "service", { DATABASE_URL: big.url }),
        start(`naive-bcrypt-${kind}`, "naive-bcrypt", { DATABASE_URL: small.url }),
        start(`service-revoke-${kind}`, "service", { DATABASE_URL: revokeDb.url }),
        start(`service-nocache-${kind}`, "service", { DATABASE_URL: small.url, KEY_CACHE_WINDOW_MS: "0" }),
        start(`service-big-nocache-${kind}`, "service", { DATABASE_URL: big.url, KEY_CACHE_WINDOW_MS: "0" }),
        // Failed logins without end: the brute-force limit out of the way, so every attempt runs bcrypt.
        start(`service-login-${kind}`, "service", { DATABASE_URL: small.url, BCRYPT_COST: String(options.passwordCost), BCRYPT_MAX_PER_CLIENT: "64", BCRYPT_QUEUE_MAX: "64", AUTH_FAILURE_LIMIT: "1000000" }),
      ]);
      revokeTargets.push({ db: kind, database: revokeDb, server: serviceRevoke, adminKey: revokeSeed.adminKey, nextId: options.revokeKeys + 1 });

      const keyBasic = smallSeed.keys.map((key) => basicHeader("apikey", key));
      const keyHeader = smallSeed.keys.map((key) => ({ apikey: key }));
      const bigBasic = bigSeed.keys.map((key) => basicHeader("apikey", key));
      const passwords = smallSeed.emails.map((email) => basicHeader(email, PASSWORD));
      const wrongPasswords = smallSeed.emails.map((email) => basicHeader(email, `wrong-${PASSWORD}`));
      const unknownEmails = Array.from({ length: 1000 }, (_, i) => basicHeader(`nobody-${i}@bench.example.org`, PASSWORD));
      const naiveBasic = naiveKeys.map((key) => basicHeader("apikey", key));
      const unknown = Array.from({ length: 1000 }, () => basicHeader("apikey", madeUpKey()));
      // Issued under this server's tag secret but not stored: what a revoked or deleted key looks like.
      const revoked = Array.from({ length: 1000 }, () => basicHeader("apikey", small.issueKey().key));
      const broken = Array.from({ length: 1000 }, () => {
        const key = madeUpKey();
        return basicHeader("apikey", key.slice(0, -1) + (key.endsWith("x") ? "y" : "x"));
      });
      const middle = Math.floor(options.bigKeys / 2);
      const deep = bigSeed.rowAt(middle);
      const admin = [basicHeader("apikey", bigSeed.adminKey)];
      const firstPage = JSON.stringify({ query: `{ apiKeys(first: 50) { ${LIST_FIELDS} } }` });
      const deepPage = listPage(ApiKeyOrder.CREATED_AT_DESC, {}, { value: deep.createdAt, id: deep.id });
      const adminLists = adminListScenarios(options.bigKeys, bigSeed.emails, bigSeed.rowAt(Math.floor(options.bigKeys / 4)).createdAt);

      await probe(service, ANON_BODY, {}, 200, (json) => json?.data?.externalToolSettings?.apiKeysEnabled === true);
      await probe(service, ME_BODY, keyBasic[0], 200, (json) => typeof json?.data?.me?.email === "string");
      await probe(serviceNoCache, ME_BODY, keyBasic[1], 200, (json) => typeof json?.data?.me?.email === "string");
      await probe(serviceBigNoCache, ME_BODY, bigBasic[1], 200, (json) => typeof json?.data?.me?.email === "string");
      await probe(service, ME_BODY, keyHeader[0], 200, (json) => typeof json?.data?.me?.email === "string");
      await probe(serviceBig, ME_BODY, bigBasic[0], 200, (json) => typeof json?.data?.me?.email === "string");
      await probe(naive, ME_BODY, naiveBasic[0], 200, (json) => typeof json?.data?.me?.email === "string");
      await probe(serviceLogin, ME_ID_BODY, wrongPasswords[0], 401, (json) => json?.errors?.[0]?.extensions?.reason === "INVALID");
      await probe(serviceLogin, ME_ID_BODY, unknownEmails[0], 401, (json) => json?.errors?.[0]?.extensions?.reason === "INVALID");
      await probe(service, ME_BODY, unknown[0], 401, (json) => json?.errors?.[0]?.extensions?.reason === "INVALID");
      await probe(service, ME_BODY, revoked[0], 401, (json) => json?.errors?.[0]?.extensions?.reason === "INVALID");
      await probe(service, ME_BODY, broken[0], 401, (json) => json?.errors?.[0]?.extensions?.reason === "MALFORMED");
      await probe(serviceBig, firstPage, admin[0], 200, (json) => json?.data?.apiKeys?.nodes?.length === Math.min(50, options.bigKeys));
      await probe(serviceBig, deepPage, admin[0], 200, (json) => Array.isArray(json?.data?.apiKeys?.nodes) && json.data.apiKeys.nodes[0]?.id === String(deep.id - 1));
      for (const list of adminLists) await probe(serviceBig, list.body, admin[0], 200, (json) => Array.isArray(json?.data?.apiKeys?.nodes) && typeof json.data.apiKeys.totalCount === "number");

      // Sessions of up to 20 users, logged in through the login mutation as a browser would.
      const sessionCookies = await loginCookies(service, smallSeed.emails.slice(1, 21), PASSWORD);
      await probe(service, ME_BODY, sessionCookies[0], 200, (json) => typeof json?.data?.me?.email === "string");

      const c = options.connections;
      scenarios.push(
        { id: "anonymous", db: kind, server: service, connections: c, body: ANON_BODY, expectStatus: 200, note: "{ externalToolSettings { apiKeysEnabled } }, no credentials" },
        { id: "apikey-basic", db: kind, server: service, connections: c, body: ME_BODY, headerPool: keyBasic, expectStatus: 200, note: `{ me { id email } }, Basic apikey:<key>, ${options.keys} keys of ${options.users} users` },
        { id: "cookie-me", db: kind, server: service, connections: c, body: ME_BODY, headerPool: sessionCookies, expectStatus: 200, note: `as apikey-basic, session cookie of ${sessionCookies.length} logged-in users` },
        { id: "apikey-header", db: kind, server: service, connections: c, body: ME_BODY, headerPool: keyHeader, expectStatus: 200, note: "as apikey-basic, apikey: header" },
        { id: "apikey-1M", db: kind, server: serviceBig, connections: c, body: ME_BODY, headerPool: bigBasic, expectStatus: 200, note: `as apikey-basic, ${options.bigKeys} keys in the table` },
        { id: "apikey-nocache", db: kind, server: serviceNoCache, connections: c, body: ME_BODY, headerPool: keyBasic, expectStatus: 200, note: "as apikey-basic, key cache off (KEY_CACHE_WINDOW_MS=0): one lookup per request" },
        { id: "apikey-1M-nocache", db: kind, server: serviceBigNoCache, connections: c, body: ME_BODY, headerPool: bigBasic, expectStatus: 200, note: `as apikey-1M, key cache off: one lookup per request in ${options.bigKeys} keys` },
        { id: "password-basic", db: kind, server: service, connections: Math.min(c, 10), body: ME_ID_BODY, headerPool: passwords, expectStatus: 200, note: `{ me { id } }, Basic email:password (bcrypt cost ${options.passwordCost}); 10 connections` },
        { id: "login-wrong-password", db: kind, server: serviceLogin, connections: Math.min(c, 10), body: ME_ID_BODY, headerPool: wrongPasswords, expectStatus: 401, note: "as password-basic, a wrong password for an existing account (brute-force limit off)" },
        { id: "login-unknown-email", db: kind, server: serviceLogin, connections: Math.min(c, 10), body: ME_ID_BODY, headerPool: unknownEmails, expectStatus: 401, note: "as login-wrong-password, 1,000 emails of no account: must cost what a wrong password costs" },
        { id: "naive-bcrypt-keys", db: kind, server: naive, connections: c, body: ME_BODY, headerPool: naiveBasic, expectStatus: 200, note: "peer design: key = id.secret, row by id, bcrypt.compare cost 10 per request" },
        { id: "bad-keys-unknown", db: kind, server: service, connections: c, body: ME_BODY, headerPool: unknown, expectStatus: 401, note: "made-up keys: well formed, valid checksum, no valid tag (what an attacker can send)" },
        { id: "bad-keys-revoked", db: kind, server: service, connections: c, body: ME_BODY, headerPool: revoked, expectStatus: 401, note: "1,000 keys this server issued (valid tag) that are no longer stored: revoked or deleted" },
        { id: "bad-keys-checksum", db: kind, server: service, connections: c, body: ME_BODY, headerPool: broken, expectStatus: 401, note: "keys whose checksum fails" },
        { id: "admin-list-first", db: kind, server: serviceBig, connections: 1, body: firstPage, headerPool: admin, expectStatus: 200, note: `apiKeys(first: 50) with totalCount, ${options.bigKeys} keys; 1 connection (latency of one page, not queueing)` },
        { id: "admin-list-deep", db: kind, server: serviceBig, connections: 1, body: deepPage, headerPool: admin, expectStatus: 200, note: `apiKeys(first: 50, after: <cursor at row ${middle}>) with totalCount; 1 connection` },
        ...adminLists.map((list) => ({ id: list.id, db: kind, server: serviceBig, connections: 1, body: list.body, headerPool: admin, expectStatus: 200, note: list.note })),
      );
    }

    // --only: fewer scenarios per round, so the pairs that matter run closer together in time.
    const known = new Set([...scenarios.map((s) => s.id), REVOKE_ALL]);
    const unknownIds = (options.only ?? []).filter((id) => !known.has(id));
    if (unknownIds.length) throw new Error(`--only: unknown scenario ${unknownIds.join(", ")} (known: ${[...known].join(", ")})`);
    const measured = options.only ? scenarios.filter((s) => options.only!.includes(s.id)) : scenarios;
    if (options.only && !options.only.includes(REVOKE_ALL)) revokeTargets.length = 0;

    await quiesce("after seeding");
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} s per scenario`);
      for (const scenario of measured) await drive(scenario, options.warmup);
    }
    const perRound = new Map<Scenario, LoadResult[]>(measured.map((s) => [s, []]));
    const revokeMs = new Map<DbKind, number[]>();
    for (let round = 1; round <= options.rounds; round++) {
      for (const scenario of measured) {
        const result = await drive(scenario, options.duration);
        perRound.get(scenario)!.push(result);
        log(`round ${round} ${scenario.id}${scenario.db ? ` [${scenario.db}]` : ""}: ${result.rps.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.cpuMicrosPerRequest.toFixed(0)} µs CPU/req, SQL/req ${result.sqlPerRequest.toFixed(3)} (SELECT ${result.selectsPerRequest.toFixed(3)}), unexpected ${result.unexpected}`);
      }
      for (const target of revokeTargets) {
        if (round > 1) {
          const reseeded = await seedKeysOnly(target.database, options.users, options.revokeKeys, target.nextId);
          target.adminKey = reseeded.adminKey;
          target.nextId += options.revokeKeys;
        }
        const started = process.hrtime.bigint();
        const response = await fetch(`${target.server.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", ...basicHeader("apikey", target.adminKey) },
          body: JSON.stringify({ query: "mutation { revokeAllApiKeys }" }),
        });
        const json = (await response.json()) as { data?: { revokeAllApiKeys?: number } };
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (json.data?.revokeAllApiKeys !== options.revokeKeys) throw new Error(`revokeAllApiKeys [${target.db}] answered ${JSON.stringify(json)}`);
        revokeMs.set(target.db, [...(revokeMs.get(target.db) ?? []), ms]);
        log(`round ${round} revokeAllApiKeys [${target.db}] on ${options.revokeKeys} keys: ${ms.toFixed(0)} ms`);
      }
      if (revokeTargets.length) await quiesce(`after round ${round}'s revokeAllApiKeys`);
    }

    for (const scenario of measured) {
      const rounds = perRound.get(scenario)!;
      report.scenarios.push({ id: scenario.id, db: scenario.db, connections: scenario.connections, note: scenario.note, rounds, median: medianResult(rounds) });
    }
    for (const [db, ms] of revokeMs) report.revokeAll.push({ db, keys: options.revokeKeys, ms, medianMs: median(ms) });
    report.ratios = computeRatios(report);
    report.finishedAt = new Date().toISOString();
    fs.mkdirSync(options.out, { recursive: true });
    const stamp = startedAt.toISOString().slice(0, 16).replace(":", "");
    const base = path.join(options.out, stamp);
    const png = renderBenchChart(report);
    report.files = { md: `${base}.md`, json: `${base}.json`, png: `${base}.png` };
    fs.writeFileSync(`${base}.png`, png);
    fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + "\n");
    fs.writeFileSync(`${base}.md`, writeBenchReport(report, path.basename(`${base}.png`)));
    log(`wrote ${base}.md, .json, .png`);
    return report;
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await Promise.all(databases.map((db) => db.drop().catch(() => undefined)));
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

/** One page of the admin grid, as the page asks for it (with totalCount); `after`: a position in that order and filter. */
function listPage(orderBy: ApiKeyOrder, filter: ApiKeyFilterInput, after?: { value: Date | null; id: number }): string {
  const cursor = after ? encodeCursor(listCursorTag(orderBy, listFingerprint(normaliseFilter(filter), undefined)), after.value, after.id) : null;
  return JSON.stringify({
    query: `query ($filter: ApiKeyFilter, $orderBy: ApiKeyOrder, $after: String) { apiKeys(first: 50, filter: $filter, orderBy: $orderBy, after: $after) { ${LIST_FIELDS} } }`,
    variables: { filter, orderBy, after: cursor },
  });
}

/**
 * The admin grid's other orders and filters at the big table's size (the seed: half the keys never
 * used, a third never expiring, about 7% expired, one in ten with a description).
 */
function adminListScenarios(bigKeys: number, emails: string[], quarter: Date): Array<{ id: string; body: string; note: string }> {
  const deepNull = Math.floor(bigKeys / 2);
  // Dates go out as ISO text (JSON), as a client sends them.
  const unusedSince = new Date(Date.now() - 100 * 3_600_000);
  const owner = emails[7 % emails.length];
  const list = (id: string, note: string, orderBy: ApiKeyOrder, filter: ApiKeyFilterInput = {}, after?: { value: Date | null; id: number }) => ({
    id,
    body: listPage(orderBy, filter, after),
    note: `${note}; first: 50 with totalCount, ${bigKeys} keys, 1 connection`,
  });
  return [
    list("admin-list-created-asc", "orderBy: CREATED_AT_ASC, first page", ApiKeyOrder.CREATED_AT_ASC),
    list("admin-list-last-used", "orderBy: LAST_USED_AT_DESC, first page", ApiKeyOrder.LAST_USED_AT_DESC),
    list("admin-list-last-used-nulls", `orderBy: LAST_USED_AT_DESC, a page in the never-used tail (after id ${deepNull})`, ApiKeyOrder.LAST_USED_AT_DESC, {}, { value: null, id: deepNull }),
    list("admin-list-expires", "orderBy: EXPIRES_AT_ASC, first page", ApiKeyOrder.EXPIRES_AT_ASC),
    list("admin-list-expires-nulls", `orderBy: EXPIRES_AT_ASC, a page in the never-expiring tail (after id ${deepNull})`, ApiKeyOrder.EXPIRES_AT_ASC, {}, { value: null, id: deepNull }),
    list("admin-list-owner", "filter: { ownerEmail }, CREATED_AT_DESC", ApiKeyOrder.CREATED_AT_DESC, { ownerEmail: owner }),
    list("admin-list-description", "filter: { descriptionContains: \"bench key 12\" }, CREATED_AT_DESC (bounded scan)", ApiKeyOrder.CREATED_AT_DESC, { descriptionContains: "bench key 12" }),
    list("admin-list-description-none", "filter: { descriptionContains } matching no key, CREATED_AT_DESC (the bounded scan's worst case)", ApiKeyOrder.CREATED_AT_DESC, { descriptionContains: "no key says this" }),
    list("admin-list-expired", "filter: { expired: true }, CREATED_AT_DESC (bounded scan)", ApiKeyOrder.CREATED_AT_DESC, { expired: true }),
    list("admin-list-unexpired", "filter: { expired: false }, CREATED_AT_DESC (bounded scan)", ApiKeyOrder.CREATED_AT_DESC, { expired: false }),
    list("admin-list-unused", "filter: { unusedSince: 100 h ago }, CREATED_AT_DESC (bounded scan)", ApiKeyOrder.CREATED_AT_DESC, { unusedSince }),
    list("admin-list-created-before", "filter: { createdBefore: a quarter in }, CREATED_AT_DESC", ApiKeyOrder.CREATED_AT_DESC, { createdBefore: quarter }),
    list("admin-list-expired-by-expiry", "filter: { expired: true }, EXPIRES_AT_ASC", ApiKeyOrder.EXPIRES_AT_ASC, { expired: true }),
    list("admin-list-unused-by-last-use", "filter: { unusedSince: 100 h ago }, LAST_USED_AT_DESC", ApiKeyOrder.LAST_USED_AT_DESC, { unusedSince }),
    list("admin-list-owner-last-used", "filter: { ownerEmail }, LAST_USED_AT_DESC", ApiKeyOrder.LAST_USED_AT_DESC, { ownerEmail: owner }),
    list("admin-list-owner-unexpired-expires", "filter: { ownerEmail, expired: false }, EXPIRES_AT_ASC", ApiKeyOrder.EXPIRES_AT_ASC, { ownerEmail: owner, expired: false }),
  ];
}

function medianResult(rounds: LoadResult[]): LoadResult {
  const pick = (field: keyof LoadResult) => median(rounds.map((r) => r[field]));
  return {
    requests: pick("requests"),
    rps: pick("rps"),
    p50: pick("p50"),
    p99: pick("p99"),
    cpuMicrosPerRequest: pick("cpuMicrosPerRequest"),
    peakRssMB: Math.max(...rounds.map((r) => r.peakRssMB)),
    sqlPerRequest: pick("sqlPerRequest"),
    selectsPerRequest: pick("selectsPerRequest"),
    writesPerRequest: pick("writesPerRequest"),
    unexpected: rounds.reduce((sum, r) => sum + r.unexpected, 0),
  };
}

function computeRatios(report: BenchReport): BenchReport["ratios"] {
  const get = (id: string, db: DbKind | null) => report.scenarios.find((s) => s.id === id && s.db === db);
  const ratios: BenchReport["ratios"] = [];
  // The median of the per-round ratios: the two scenarios of one round ran seconds apart, so the
  // machine's drift (up to 3× within minutes here) cancels out, which a ratio of medians does not.
  const paired = (a: ScenarioResult, b: ScenarioResult, ratio: (x: LoadResult, y: LoadResult) => number) =>
    median(a.rounds.slice(0, b.rounds.length).map((round, index) => ratio(round, b.rounds[index])));
  /** `max`: the ratio must also stay below it (two scenarios that must cost the same). */
  const add = (db: DbKind | null, name: string, a: ScenarioResult | undefined, b: ScenarioResult | undefined, min: number | null, target: string, max = Infinity) => {
    if (!a || !b) return;
    const value = paired(a, b, (x, y) => x.rps / y.rps);
    const cpuValue = paired(a, b, (x, y) => y.cpuMicrosPerRequest / x.cpuMicrosPerRequest);
    const within = (ratio: number) => (min === null ? null : ratio >= min && ratio <= max);
    ratios.push({ db, name, value, cpuValue, target, met: within(value), cpuMet: within(cpuValue) });
  };
  for (const db of report.options.dbs) {
    const basic = get("apikey-basic", db);
    add(db, "apikey-basic / baseline-apollo", basic, get("baseline-apollo", null), db === "sqlite" ? 0.8 : 0.65, db === "sqlite" ? "≥ 0.80" : "≥ 0.65");
    add(db, "apikey-basic / baseline-http", basic, get("baseline-http", null), 0.28, "≥ 0.28");
    add(db, "apikey-1M / apikey-basic", get("apikey-1M", db), basic, 0.9, "≥ 0.90");
    add(db, "apikey-1M-nocache / apikey-nocache", get("apikey-1M-nocache", db), get("apikey-nocache", db), 0.9, "≥ 0.90 (lookups not cached)");
    add(db, "apikey-basic / apikey-nocache", basic, get("apikey-nocache", db), null, "");
    add(db, "apikey-basic / naive-bcrypt-keys", basic, get("naive-bcrypt-keys", db), 300, "≥ 300");
    add(db, "apikey-header / apikey-basic", get("apikey-header", db), basic, null, "");
    add(db, "cookie-me / apikey-basic", get("cookie-me", db), basic, 0.9, "≥ 0.90");
    add(db, "anonymous / baseline-apollo", get("anonymous", db), get("baseline-apollo", null), null, "");
    add(db, "apikey-basic / apollo-lean", basic, get("apollo-lean", null), null, "");
    add(db, "bad-keys-unknown / apikey-basic", get("bad-keys-unknown", db), basic, 1, "≥ 1 (not slower)");
    add(db, "bad-keys-revoked / apikey-basic", get("bad-keys-revoked", db), basic, 1, "≥ 1 (not slower)");
    add(db, "bad-keys-revoked / apikey-nocache", get("bad-keys-revoked", db), get("apikey-nocache", db), null, "");
    add(db, "bad-keys-checksum / apikey-basic", get("bad-keys-checksum", db), basic, 1, "≥ 1 (not slower)");
    add(db, "password-basic / apikey-basic", get("password-basic", db), basic, null, "");
    // A login must not tell which emails have accounts by how long it takes.
    add(db, "login-unknown-email / login-wrong-password", get("login-unknown-email", db), get("login-wrong-password", db), 1 / 1.15, "0.87–1.15 (same cost)", 1.15);
  }
  add(null, "baseline-apollo / baseline-http", get("baseline-apollo", null), get("baseline-http", null), null, "");
  add(null, "apollo-lean / baseline-http", get("apollo-lean", null), get("baseline-http", null), null, "");
  return ratios;
}

if (require.main === module) {
  runBench(benchOptions()).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
