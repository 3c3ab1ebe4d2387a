import { defaultFieldResolver, getNullableType, type GraphQLFieldResolver, GraphQLList, GraphQLObjectType, type GraphQLSchema } from "graphql";

/**
 * Hands out turns one per event-loop iteration, first come first served. graphql-js completes a
 * resolved list in one go, on promise callbacks, which never let the event loop in: 16 largest
 * pages at once held it for hundreds of milliseconds and every other request (/healthz, a key
 * request) waited behind all of them. A turn is granted from a setImmediate callback, so between two
 * turns Node polls the sockets and answers whatever arrived.
 */
export class TurnQueue {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  /** Resolves on a later event-loop iteration than any turn granted before it. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(this.grant);
  }

  private readonly grant = (): void => {
    this.scheduled = false;
    this.waiting.shift()!();
    // Scheduled from inside the check phase, so it runs after the next poll for I/O.
    this.schedule();
  };
}

/**
 * Spreads the building of a large result over event-loop turns, so that other requests (a key
 * request, /healthz) wait behind at most one slice of it:
 * - a field asked for more than `itemsPerSlice` items (its `first` argument) is resolved, and so
 *   its page read, on its own turn of `turns`, not in the same turn as other requests' pages;
 * - every list field longer than `itemsPerSlice` hands graphql-js its items as promises, one
 *   slice of `itemsPerSlice` items resolving per turn; graphql-js completes an item (its fields,
 *   its nested objects) when its promise resolves, so each slice is completed on its own turn.
 * Fields asked for at most `itemsPerSlice` items, and lists no longer than that (every default
 * page), are resolved exactly as before.
 */
export function paceLongLists(schema: GraphQLSchema, itemsPerSlice: number, turns = new TurnQueue()): GraphQLSchema {
  const pace = (value: unknown): unknown => (Array.isArray(value) && value.length > itemsPerSlice ? sliced(value, itemsPerSlice, turns) : value);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const paged = field.args.some((arg) => arg.name === "first");
      const list = getNullableType(field.type) instanceof GraphQLList;
      if (!paged && !list) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const completed = list ? pace : (value: unknown) => value;
      field.resolve = (source, args: { first?: unknown }, context, info) => {
        if (paged && typeof args.first === "number" && args.first > itemsPerSlice) {
          return turns.next().then(() => resolve(source, args, context, info)).then(completed);
        }
        const value = resolve(source, args, context, info);
        return value instanceof Promise ? value.then(completed) : completed(value);
      };
    }
  }
  return schema;
}

function sliced(items: readonly unknown[], itemsPerSlice: number, turns: TurnQueue): unknown[] {
  const result: unknown[] = [];
  for (let start = 0; start < items.length; start += itemsPerSlice) {
    const turn = turns.next();
    for (const item of items.slice(start, start + itemsPerSlice)) result.push(turn.then(() => item));
  }
  return result;
}
