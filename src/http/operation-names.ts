import { type DocumentNode, Kind, parse, type ParseOptions } from "graphql";

export interface OperationInfo {
  /** The operation's own name in the document (a GraphQL name: letters, digits, underscores), or null. */
  name: string | null;
  type: "query" | "mutation" | "subscription";
}

type Summary = ReadonlyArray<{ name: string | null; type: OperationInfo["type"] }>;

/** Longer query texts are parsed every time rather than kept: the memo's memory stays small. */
const MAX_MEMO_QUERY_LENGTH = 4096;

/**
 * Which operation a request runs, for the access line and the metrics, read from the request
 * itself: its document (parsed once per distinct query text, in a bounded memo) and its
 * operationName, resolved as graphql-js resolves it for execution (getOperationAST). Knowing it
 * here, instead of from an Apollo request plugin's didResolveOperation, spares the plugin hooks
 * Apollo awaits at every stage of every request. Unlike that hook, a request that fails
 * validation is still named.
 */
export class OperationNames {
  private readonly memo = new Map<string, Summary | null>();

  constructor(
    private readonly parseOptions: ParseOptions,
    private readonly maxEntries = 500,
  ) {}

  of(query: unknown, operationName: unknown): OperationInfo | null {
    if (typeof query !== "string") return null;
    let summary = this.memo.get(query);
    if (summary === undefined) {
      summary = summarise(query, this.parseOptions);
      if (query.length <= MAX_MEMO_QUERY_LENGTH) {
        if (this.memo.size >= this.maxEntries) this.memo.delete(this.memo.keys().next().value!);
        this.memo.set(query, summary);
      }
    }
    if (summary === null) return null;
    if (typeof operationName === "string") return summary.find((operation) => operation.name === operationName) ?? null;
    if (operationName !== undefined && operationName !== null) return null;
    return summary.length === 1 ? summary[0] : null;
  }
}

function summarise(query: string, parseOptions: ParseOptions): Summary | null {
  let document: DocumentNode;
  try {
    document = parse(query, { ...parseOptions, noLocation: true });
  } catch {
    return null; // Apollo answers the syntax error; there is no operation to name
  }
  const operations: Array<{ name: string | null; type: OperationInfo["type"] }> = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) operations.push({ name: definition.name?.value ?? null, type: definition.operation });
  }
  return operations;
}
