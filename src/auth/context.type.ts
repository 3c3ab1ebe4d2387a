import type { Identity } from "./identity";

export interface Context {
  /** Null for anonymous requests. */
  identity: Identity | null;
  requestId: string;
  clientIp: string;
  /** The browser side of login sessions (src/http/cookies.ts); absent outside HTTP requests. */
  cookies?: BrowserCookies;
}

/** What login and logout need of the request's cookies. */
export interface BrowserCookies {
  /** The device cookie the request carried (src/auth/device-cookies.ts). */
  readonly device: string | undefined;
  readonly userAgent: string | undefined;
  startSession(token: string): void;
  endSession(): void;
  setDevice(value: string, lifetimeMs: number): void;
}

export type AuthenticatedContext = Context & { identity: Identity };
