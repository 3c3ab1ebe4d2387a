import { buildSchema, parse, specifiedRules, validate } from "graphql";
import { costLimitRule } from "../../src/graphql/cost-limit";

const schema = buildSchema(`
  type User { id: ID! email: String! }
  type Key { id: ID! hint: String! owner: User! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type KeyConnection { nodes: [Key!]! totalCount: Int! pageInfo: PageInfo! }
  type Query {
    me: User!
    myKeys(first: Int = 50, after: String): [Key!]!
    keys(first: Int = 50, after: String): KeyConnection!
    everything: [Key!]!
  }
`);

const OPTIONS = { maxCost: 10_000, maxPageSize: 500, unboundedListSize: 100 };
const errorsOf = (query: string, options = OPTIONS) => validate(schema, parse(query), [...specifiedRules, costLimitRule(options)]).map((error) => error.message);
const accepted = (query: string, maxCost: number) => errorsOf(query, { ...OPTIONS, maxCost }).length === 0;
/** The smallest maxCost that accepts the query: its cost. */
const costOf = (query: string) => {
  let low = 0;
  let high = 10_000_000;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (accepted(query, middle)) high = middle;
    else low = middle + 1;
  }
  return low;
};

describe("cost limit: lists count once per item they may hold", () => {
  test("fields count one each; a list multiplies its fields by `first`", () => {
    expect(costOf("{ me { id email } }")).toBe(3);
    expect(costOf("{ myKeys(first: 10) { id hint } }")).toBe(1 + 10 * 2);
    expect(costOf("{ myKeys(first: 10) { id owner { email } } }")).toBe(1 + 10 * (1 + 2));
  });

  test("no `first`: the argument's default; a variable: the largest page", () => {
    expect(costOf("{ myKeys { id } }")).toBe(1 + 50);
    expect(costOf("query ($n: Int) { myKeys(first: $n) { id } }")).toBe(1 + 500);
  });

  test("`first` on a connection applies to its list, not to totalCount or pageInfo", () => {
    expect(costOf("{ keys(first: 20) { totalCount pageInfo { hasNextPage } nodes { id hint } } }")).toBe(1 + 1 + 2 + (1 + 20 * 2));
  });

  test("a list without `first` counts as unboundedListSize items", () => {
    expect(costOf("{ everything { id } }")).toBe(1 + 100);
  });

  test("fragments count where they are spread", () => {
    expect(costOf("{ myKeys(first: 10) { ...K } } fragment K on Key { id hint }")).toBe(costOf("{ myKeys(first: 10) { id hint } }"));
    expect(costOf("{ myKeys(first: 10) { ... on Key { id hint } } }")).toBe(costOf("{ myKeys(first: 10) { id hint } }"));
  });

  test("15 aliases of a 500-item list are refused with a message that echoes nothing of the query", () => {
    const query = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: myKeys(first: 500) { id hint owner { id email } }`).join(" ")} }`;
    const errors = errorsOf(query);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/too much data/);
    expect(errors[0]).not.toMatch(/500|myKeys|\d{4,}/);
  });

  test("a fragment cycle does not hang the estimate (the cycle itself is another rule's error)", () => {
    const errors = errorsOf("{ myKeys { ...A } } fragment A on Key { owner { id } ...B } fragment B on Key { ...A }");
    expect(errors.some((message) => /cannot spread fragment/i.test(message))).toBe(true);
  });
});
