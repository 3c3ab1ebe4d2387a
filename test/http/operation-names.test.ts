import { getOperationAST, parse } from "graphql";
import { OperationNames } from "../../src/http/operation-names";

describe("operation names for the access line and metrics", () => {
  const documents = [
    "{ me { id } }",
    "query Me { me { id } }",
    "mutation Revoke { revokeAllApiKeys }",
    "query A { me { id } } mutation B { revokeAllApiKeys }",
    "query A { me { id } } query { me { email } }",
    "subscription S { x }",
    "fragment F on User { id } query WithFragment { me { ...F } }",
  ];
  const names = [undefined, null, "A", "B", "Me", "Revoke", "S", "WithFragment", "missing", ""];

  test("the operation graphql-js would execute: by name, else the only one, else none", () => {
    const operations = new OperationNames({});
    for (const query of documents) {
      for (const operationName of names) {
        const expected = getOperationAST(parse(query), operationName);
        const got = operations.of(query, operationName);
        expect({ query, operationName, got }).toEqual({ query, operationName, got: expected ? { name: expected.name?.value ?? null, type: expected.operation } : null });
      }
    }
  });

  test("no operation: a syntax error, a query over the token limit, a missing or non-string query, a non-string name", () => {
    const operations = new OperationNames({ maxTokens: 10 });
    expect(operations.of("{ me { id ", undefined)).toBeNull();
    expect(operations.of(`{ ${"a ".repeat(20)} }`, undefined)).toBeNull();
    expect(operations.of(undefined, undefined)).toBeNull();
    expect(operations.of(42, undefined)).toBeNull();
    expect(operations.of("{ me { id } }", 7)).toBeNull();
  });

  test("memo: the same text answers from memory, the oldest text leaves first, long texts are not kept", () => {
    const operations = new OperationNames({}, 2);
    const memo = (operations as unknown as { memo: Map<string, unknown> }).memo;
    operations.of("query A { me { id } }", undefined);
    operations.of("query A { me { id } }", undefined);
    operations.of("query B { me { id } }", undefined);
    operations.of("query C { me { id } }", undefined);
    expect([...memo.keys()]).toEqual(["query B { me { id } }", "query C { me { id } }"]);
    const long = `query Long { me { id ${"email ".repeat(1000)} } }`;
    expect(operations.of(long, undefined)).toEqual({ name: "Long", type: "query" });
    expect(memo.has(long)).toBe(false);
  });
});
