import {
  type ASTVisitor,
  type FieldNode,
  getNamedType,
  getNullableType,
  GraphQLError,
  type GraphQLField,
  GraphQLList,
  type GraphQLNamedType,
  type GraphQLSchema,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  valueFromAST,
  GraphQLInt,
} from "graphql";

export interface CostLimitOptions {
  /** Largest estimated number of values one operation may return. */
  maxCost: number;
  /** The most items one `first` may ask for (a variable may hold anything up to it). */
  maxPageSize: number;
  /** Items assumed for a list that takes no `first` (no list of this schema is unbounded; a safe guess if one ever is). */
  unboundedListSize: number;
}

/**
 * A validation rule that estimates how many values an operation can return, before anything runs:
 * every field counts one, and a list counts its fields once per item it may hold, `first` items
 * (the literal, the argument's default when absent, or the largest page when a variable gives it),
 * so `a1: myApiKeys(first: 500) … a15: myApiKeys(first: 500)` costs 15 × 500 × its fields and is
 * refused before any SQL, where a per-field count (graphql-armor's) saw a few hundred.
 *
 * `first` on a field that returns a connection (apiKeys) applies to the lists inside it (nodes).
 * Fragments count where they are spread. Introspection is not counted: it is off in production,
 * and its size is fixed by the schema.
 * Validation runs once per distinct document (Apollo caches the result), so this costs nothing on
 * a repeated query.
 */
export function costLimitRule(options: CostLimitOptions): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const root = operation.operation === "query" ? context.getSchema().getQueryType() : operation.operation === "mutation" ? context.getSchema().getMutationType() : context.getSchema().getSubscriptionType();
      if (!root) return;
      const cost = new CostEstimate(context, options).ofSelections(operation.selectionSet, root, null, new Set());
      if (cost > options.maxCost) {
        context.reportError(
          new GraphQLError("This query could return too much data at once: ask for fewer items (first), fewer aliases or fewer fields, and page with `after`.", {
            nodes: [operation],
          }),
        );
      }
    },
  });
}

class CostEstimate {
  private readonly schema: GraphQLSchema;

  constructor(
    private readonly context: ValidationContext,
    private readonly options: CostLimitOptions,
  ) {
    this.schema = context.getSchema();
  }

  /**
   * `pageSize`: a `first` given to an enclosing connection field, not yet spent on a list.
   * `spreading`: fragments on the current path (a cycle is a validation error of its own; here it
   * just must not recurse forever).
   */
  ofSelections(selectionSet: SelectionSetNode, parent: GraphQLNamedType, pageSize: number | null, spreading: Set<string>): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += this.ofField(selection, parent, pageSize, spreading);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        cost += this.ofSelections(selection.selectionSet, type ?? parent, pageSize, spreading);
      } else {
        const name = selection.name.value;
        const fragment = this.context.getFragment(name);
        if (!fragment || spreading.has(name)) continue;
        const type = this.schema.getType(fragment.typeCondition.name.value) ?? parent;
        cost += this.ofSelections(fragment.selectionSet, type, pageSize, new Set([...spreading, name]));
      }
      if (!Number.isFinite(cost)) return Number.POSITIVE_INFINITY;
    }
    return cost;
  }

  private ofField(node: FieldNode, parent: GraphQLNamedType, pageSize: number | null, spreading: Set<string>): number {
    const name = node.name.value;
    if (name === "__schema" || name === "__type") return 0;
    if (!node.selectionSet) return 1;
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
    if (!definition) return 1; // an unknown field: another rule reports it
    const returnsList = getNullableType(definition.type) instanceof GraphQLList;
    const first = this.firstOf(node, definition);
    let items = 1;
    let passedOn: number | null = pageSize;
    if (returnsList) {
      items = first ?? pageSize ?? this.options.unboundedListSize;
      passedOn = null;
    } else if (first !== null) {
      passedOn = first;
    }
    const type = getNamedType(definition.type);
    const childCost = isCompositeType(type) ? this.ofSelections(node.selectionSet, type, passedOn, spreading) : 0;
    return 1 + items * childCost;
  }

  /** The items `first` may ask for; null when the field takes no `first`. */
  private firstOf(node: FieldNode, definition: GraphQLField<unknown, unknown>): number | null {
    const argument = definition.args.find((arg) => arg.name === "first");
    if (!argument) return null;
    const given = node.arguments?.find((arg) => arg.name.value === "first");
    if (!given) return typeof argument.defaultValue === "number" ? argument.defaultValue : this.options.maxPageSize;
    if (given.value.kind === Kind.VARIABLE) return this.options.maxPageSize;
    const value = valueFromAST(given.value, GraphQLInt);
    return typeof value === "number" && value >= 0 ? value : this.options.maxPageSize;
  }
}
