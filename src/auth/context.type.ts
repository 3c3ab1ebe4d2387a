import type { Identity } from "./identity";

export interface Context {
  /** Null for anonymous requests. */
  identity: Identity | null;
  requestId: string;
  clientIp: string;
  /**
   * Filled in once Apollo has resolved the operation; read by the access log. An object of its
   * own because Apollo hands resolvers a shallow copy of the context.
   */
  operation: { name?: string | null; type?: "query" | "mutation" | "subscription" };
}

export type AuthenticatedContext = Context & { identity: Identity };
