import type { Identity } from "./identity";

export interface Context {
  /** Null for anonymous requests. */
  identity: Identity | null;
  requestId: string;
  clientIp: string;
}

export type AuthenticatedContext = Context & { identity: Identity };
