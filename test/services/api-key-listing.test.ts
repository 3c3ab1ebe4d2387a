import { toSqlDateTime } from "../../src/db/data-source";
import { ApiKeyOrder, type ApiKeyFilterInput } from "../../src/services/api-key-listing";
import { ApiKeyService } from "../../src/services/api-key.service";
import { createTestDatabase, type TestDatabase } from "../support/database";

/**
 * The key lists' index paths on a real database: every order with every filter (and some
 * combinations) visits every matching key exactly once, in order (NULL tails and ties included),
 * with full and bounded pages; every statement a page runs reads an index, never the whole table,
 * and never sorts.
 */
const NOW = new Date(Date.UTC(2026, 5, 1, 12));
const BASE = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;
const KEYS = 240;
const EMAILS = ["admin@example.org", "alice@example.org", "bob@example.org", "carol@example.org"];

interface KeyRow {
  id: number;
  owner: number;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  description: string | null;
}

/** Ids shuffled against creation order; many ties on every sort column; NULLs in both nullable ones. */
function keyRows(): KeyRow[] {
  return Array.from({ length: KEYS }, (_, i) => ({
    id: ((i * 97) % KEYS) + 1,
    owner: (i % 4) + 1,
    createdAt: BASE + Math.floor(i / 3) * 1000,
    lastUsedAt: i % 3 === 0 ? null : BASE + ((i * 7) % 50) * MINUTE,
    expiresAt: i % 4 === 0 ? null : NOW.getTime() + (((i * 11) % 60) - 30) * DAY,
    description: i % 5 === 0 ? `Deploy key ${i}` : i % 5 === 1 ? null : `script ${i}`,
  }));
}

const UNUSED_SINCE = new Date(BASE + 20 * MINUTE);
const CREATED_BEFORE = new Date(BASE + 50 * 1000);

const FILTERS: Array<[string, ApiKeyFilterInput]> = [
  ["no filter", {}],
  ["ownerEmail", { ownerEmail: "Bob@Example.org" }],
  ["descriptionContains", { descriptionContains: "DEPLOY" }],
  ["expired: true", { expired: true }],
  ["expired: false", { expired: false }],
  ["unusedSince", { unusedSince: UNUSED_SINCE }],
  ["createdBefore", { createdBefore: CREATED_BEFORE }],
  ["ownerEmail + expired: false", { ownerEmail: "carol@example.org", expired: false }],
  ["descriptionContains + unusedSince", { descriptionContains: "key", unusedSince: UNUSED_SINCE }],
  ["expired: true + createdBefore", { expired: true, createdBefore: CREATED_BEFORE }],
  ["ownerEmail + descriptionContains + expired: false", { ownerEmail: "alice@example.org", descriptionContains: "script", expired: false }],
];
const ORDERS = Object.values(ApiKeyOrder);

function matches(row: KeyRow, filter: ApiKeyFilterInput): boolean {
  if (filter.ownerEmail && EMAILS[row.owner - 1] !== filter.ownerEmail.toLowerCase()) return false;
  if (filter.descriptionContains && !(row.description ?? "").toLowerCase().includes(filter.descriptionContains.toLowerCase())) return false;
  const expired = row.expiresAt !== null && row.expiresAt <= NOW.getTime();
  if (filter.expired === true && !expired) return false;
  if (filter.expired === false && expired) return false;
  if (filter.unusedSince && row.lastUsedAt !== null && row.lastUsedAt >= filter.unusedSince.getTime()) return false;
  if (filter.createdBefore && row.createdAt >= filter.createdBefore.getTime()) return false;
  return true;
}

/** The order the API promises, written out independently of the SQL. */
function sorted(rows: KeyRow[], order: ApiKeyOrder): number[] {
  const by = (value: (row: KeyRow) => number | null, descending: boolean) => (a: KeyRow, b: KeyRow) => {
    const [x, y] = [value(a), value(b)];
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1; // NULLs last
    } else if (x !== y) return descending ? y - x : x - y;
    return descending ? b.id - a.id : a.id - b.id;
  };
  const compare = {
    [ApiKeyOrder.CREATED_AT_DESC]: by((r) => r.createdAt, true),
    [ApiKeyOrder.CREATED_AT_ASC]: by((r) => r.createdAt, false),
    [ApiKeyOrder.LAST_USED_AT_DESC]: by((r) => r.lastUsedAt, true),
    [ApiKeyOrder.EXPIRES_AT_ASC]: by((r) => r.expiresAt, false),
  }[order];
  return [...rows].sort(compare).map((row) => row.id);
}

describe("key lists: index paths", () => {
  let db: TestDatabase;
  let keys: ApiKeyService;
  const rows = keyRows();
  const statements: Array<{ sql: string; params: unknown[] }> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const at = (ms: number | null) => (ms === null ? null : toSqlDateTime(new Date(ms)));
    for (const [index, email] of EMAILS.entries()) {
      await db.dataSource.query("INSERT INTO users (id, email, password_hash, is_admin, active, created_at) VALUES (?, ?, 'x', ?, 1, ?)", [index + 1, email, index === 0 ? 1 : 0, at(BASE)]);
    }
    for (const row of rows) {
      await db.dataSource.query(
        "INSERT INTO api_keys (id, owner_id, key_hash, hint, description, created_at, expires_at, last_used_at) VALUES (?, ?, ?, 'xta_…', ?, ?, ?, ?)",
        [row.id, row.owner, String(row.id).padStart(64, "0"), row.description, at(row.createdAt), at(row.expiresAt), at(row.lastUsedAt)],
      );
    }
    await db.dataSource.query(db.kind === "sqlite" ? "ANALYZE" : "ANALYZE TABLE api_keys, users");
    const revocations = { bump: async () => undefined, settled: async () => undefined };
    const audit = { record: async () => undefined };
    keys = new ApiKeyService(db.dataSource, {} as never, audit as never, {} as never, revocations, {} as never);
    const query = db.dataSource.query.bind(db.dataSource);
    db.dataSource.query = ((sql: string, params?: unknown[]) => {
      statements.push({ sql, params: params ?? [] });
      return query(sql, params);
    }) as typeof db.dataSource.query;
  });
  afterAll(async () => {
    await db.destroy();
  });

  async function visit(orderBy: ApiKeyOrder, filter: ApiKeyFilterInput, first: number) {
    const ids: number[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 200; pages++) {
      const page = await keys.list({ filter, orderBy, first, after }, NOW);
      ids.push(...page.nodes.map((key) => key.id));
      sizes.push(page.nodes.length);
      if (!page.hasNextPage) return { ids, sizes };
      expect(page.endCursor).not.toBeNull();
      after = page.endCursor;
    }
    throw new Error("more than 200 pages");
  }

  describe.each(ORDERS)("%s", (orderBy) => {
    test.each(FILTERS)("%s: paging visits every matching key once, in order", async (_name, filter) => {
      const expected = sorted(rows.filter((row) => matches(row, filter)), orderBy);
      expect(expected.length).toBeGreaterThan(0);
      keys.listing.maxRowsExamined = 5000;
      expect((await visit(orderBy, filter, 7)).ids).toEqual(expected);
      // A bound of 13 rows examined per segment: pages may come short, nothing is skipped or repeated.
      keys.listing.maxRowsExamined = 13;
      try {
        expect((await visit(orderBy, filter, 7)).ids).toEqual(expected);
      } finally {
        keys.listing.maxRowsExamined = 5000;
      }
      const page = await keys.list({ filter, orderBy, first: 7 }, NOW);
      await expect(page.countTotal()).resolves.toBe(expected.length);
    });

    test.each(FILTERS)("%s: every statement of a page and of its count reads an index range, with no table scan and no sort", async (_name, filter) => {
      keys.listing.maxRowsExamined = 13;
      try {
        statements.length = 0;
        keys.counts.clear();
        const firstPage = await keys.list({ filter, orderBy, first: 5 }, NOW);
        await firstPage.countTotal();
        const second = await keys.list({ filter, orderBy, first: 5, after: firstPage.endCursor }, NOW);
        // On to the end: through the NULL tail of a nullable order too.
        let { endCursor: after, hasNextPage: more } = second;
        for (let pages = 0; more && pages < 40; pages++) ({ endCursor: after, hasNextPage: more } = await keys.list({ filter, orderBy, first: 50, after }, NOW));
      } finally {
        keys.listing.maxRowsExamined = 5000;
      }
      // The page's statements and totalCount's.
      const reads = statements.filter(({ sql }) => /FROM api_keys k/.test(sql));
      expect(reads.filter(({ sql }) => /COUNT\(\*\) AS total/.test(sql)).length).toBeGreaterThan(0);
      expect(reads.length).toBeGreaterThan(1);
      // The one statement that reads every row: counting a substring filter alone (no index serves
      // it; documented, and cached). Its pages stay bounded.
      const wholeTable = ({ sql }: { sql: string }) => /^SELECT COUNT\(\*\) AS total FROM api_keys k\s+WHERE LOWER\(k\.description\) LIKE \? ESCAPE '!'$/.test(sql);
      expect(reads.some(wholeTable)).toBe(_name === "descriptionContains");
      for (const { sql, params } of reads.filter((read) => !wholeTable(read))) await expectIndexedPlan(sql, params);
    });
  });

  async function expectIndexedPlan(sql: string, params: unknown[]) {
    if (db.kind === "sqlite") {
      const plan = (await db.dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, params)) as Array<{ detail: string }>;
      const details = plan.map((step) => step.detail);
      const context = `${sql}\n${details.join("\n")}`;
      expect({ context, keys: details.filter((d) => /\bk\b/.test(d)).every((d) => /^(SEARCH|SCAN) k USING (COVERING )?INDEX idx_api_keys_/.test(d)) }).toEqual({ context, keys: true });
      expect({ context, sorts: details.filter((d) => /TEMP B-TREE/.test(d)) }).toEqual({ context, sorts: [] });
      expect({ context, owners: details.filter((d) => /\bu\b/.test(d)).every((d) => /SEARCH u USING INTEGER PRIMARY KEY/.test(d)) }).toEqual({ context, owners: true });
    } else {
      const plan = (await db.dataSource.query(`EXPLAIN ${sql}`, params)) as Array<{ table: string; type: string; key: string | null; Extra: string | null }>;
      const context = `${sql}\n${JSON.stringify(plan)}`;
      const key = plan.find((step) => step.table === "k");
      expect({ context, type: key?.type === "ALL" ? "ALL" : "not ALL", key: key?.key?.startsWith("idx_api_keys_") }).toEqual({ context, type: "not ALL", key: true });
      expect({ context, filesort: plan.some((step) => /filesort|temporary/i.test(step.Extra ?? "")) }).toEqual({ context, filesort: false });
      const owner = plan.find((step) => step.table === "u");
      if (owner) expect({ context, owner: ["eq_ref", "const"].includes(owner.type) }).toEqual({ context, owner: true });
    }
  }

  test("a bounded page: fewer rows than first, hasNextPage true, and the cursor where the scan stopped", async () => {
    keys.listing.maxRowsExamined = 13;
    try {
      const page = await keys.list({ filter: { descriptionContains: "deploy" }, orderBy: ApiKeyOrder.CREATED_AT_DESC, first: 7 }, NOW);
      // 1 key in 5 matches: 13 rows examined hold 2 or 3 of them.
      expect(page.nodes.length).toBeGreaterThan(0);
      expect(page.nodes.length).toBeLessThan(7);
      expect(page.hasNextPage).toBe(true);
      const next = await keys.list({ filter: { descriptionContains: "deploy" }, orderBy: ApiKeyOrder.CREATED_AT_DESC, first: 7, after: page.endCursor }, NOW);
      const order = sorted(rows.filter((row) => matches(row, { descriptionContains: "deploy" })), ApiKeyOrder.CREATED_AT_DESC);
      expect([...page.nodes, ...next.nodes].map((key) => key.id)).toEqual(order.slice(0, page.nodes.length + next.nodes.length));
    } finally {
      keys.listing.maxRowsExamined = 5000;
    }
  });

  test("a cursor is refused under another order or another filter, and a null position under an order without NULLs", async () => {
    const page = await keys.list({ filter: { expired: false }, orderBy: ApiKeyOrder.EXPIRES_AT_ASC, first: 3 }, NOW);
    const after = page.endCursor;
    await expect(keys.list({ filter: { expired: false }, orderBy: ApiKeyOrder.CREATED_AT_ASC, after }, NOW)).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    await expect(keys.list({ filter: { expired: true }, orderBy: ApiKeyOrder.EXPIRES_AT_ASC, after }, NOW)).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    await expect(keys.list({ orderBy: ApiKeyOrder.EXPIRES_AT_ASC, after }, NOW)).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    const tag = JSON.parse(Buffer.from(after!, "base64url").toString("utf8"))[0];
    const nullUnderCreation = Buffer.from(JSON.stringify([tag.replace("EXPIRES_AT_ASC", "CREATED_AT_ASC"), null, 5])).toString("base64url");
    await expect(keys.list({ filter: { expired: false }, orderBy: ApiKeyOrder.CREATED_AT_ASC, after: nullUnderCreation }, NOW)).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    // The same filter under the same order, read a minute later: still its cursor.
    await expect(keys.list({ filter: { expired: false }, orderBy: ApiKeyOrder.EXPIRES_AT_ASC, after }, new Date(NOW.getTime() + MINUTE))).resolves.toBeDefined();
  });

  test("an unknown ownerEmail: an empty page and a count of 0, without reading api_keys", async () => {
    statements.length = 0;
    const page = await keys.list({ filter: { ownerEmail: "nobody@example.org" } }, NOW);
    expect(page).toMatchObject({ nodes: [], hasNextPage: false, endCursor: null });
    await expect(page.countTotal()).resolves.toBe(0);
    expect(statements.filter(({ sql }) => /api_keys/.test(sql))).toEqual([]);
  });

  test("counts: a revocation changes every cached count at once by what it removed, without counting again", async () => {
    keys.counts.clear();
    const filters: ApiKeyFilterInput[] = [{}, { expired: false }, { ownerEmail: "bob@example.org" }, { descriptionContains: "deploy" }];
    const count = async (filter: ApiKeyFilterInput) => (await keys.list({ filter, first: 1 }, NOW)).countTotal();
    const before = await Promise.all(filters.map(count));
    const actor = { userId: 1, email: "admin@example.org", ip: null };
    const victims = rows.filter((row) => row.owner === 3 && row.description?.startsWith("Deploy")).slice(0, 3);
    expect(victims).toHaveLength(3);
    await keys.revoke(actor, victims.map((row) => String(row.id)));
    statements.length = 0;
    const after = await Promise.all(filters.map(count));
    expect(statements.filter(({ sql }) => /COUNT\(\*\) AS total/.test(sql))).toEqual([]);
    const removed = (filter: ApiKeyFilterInput) => victims.filter((row) => matches(row, filter)).length;
    expect(after).toEqual(filters.map((filter, index) => before[index] - removed(filter)));
    expect(after[0]).toBe(KEYS - 3);
    // What a fresh count finds.
    keys.counts.clear();
    await expect(Promise.all(filters.map(count))).resolves.toEqual(after);
    const listed = await visit(ApiKeyOrder.CREATED_AT_DESC, { ownerEmail: "bob@example.org" }, 50);
    expect(listed.ids.filter((id) => victims.some((row) => row.id === id))).toEqual([]);
  });
});
