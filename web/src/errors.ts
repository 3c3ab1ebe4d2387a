import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

/** What the pages show of a failed request. The server's GraphQL messages are written for users. */
export interface ErrorInfo {
  message: string;
  code?: string;
  reason?: string;
  status?: number;
  retryAfterSeconds?: number;
}

interface RawGraphQLError {
  message?: unknown;
  extensions?: Record<string, unknown> | null;
}

const UNREACHABLE = "The server could not be reached. Check your connection and try again.";

function fromGraphQLError(error: RawGraphQLError | undefined, status?: number): ErrorInfo | null {
  if (!error || typeof error.message !== "string") return null;
  const extensions = error.extensions ?? {};
  const retry = extensions.retryAfterSeconds;
  const code = typeof extensions.code === "string" ? extensions.code : undefined;
  return {
    message: error.message,
    code,
    reason: typeof extensions.reason === "string" ? extensions.reason : undefined,
    status,
    retryAfterSeconds: typeof retry === "number" && Number.isFinite(retry) ? retry : undefined,
  };
}

function retryAfterHeader(response: Response | undefined): number | undefined {
  const raw = response?.headers.get("retry-after");
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export function describeError(error: unknown): ErrorInfo {
  if (CombinedGraphQLErrors.is(error)) {
    const first = fromGraphQLError(error.errors[0] as RawGraphQLError | undefined);
    if (first) return first;
  }
  if (ServerError.is(error)) {
    let parsed: ErrorInfo | null = null;
    try {
      const body = JSON.parse(error.bodyText) as { errors?: RawGraphQLError[] };
      parsed = fromGraphQLError(body.errors?.[0], error.statusCode);
    } catch {
      parsed = null;
    }
    const info: ErrorInfo = parsed ?? { message: `The server answered with HTTP ${error.statusCode}.`, status: error.statusCode };
    return { ...info, status: error.statusCode, retryAfterSeconds: info.retryAfterSeconds ?? retryAfterHeader(error.response) };
  }
  return { message: UNREACHABLE };
}

/** A 401 (UNAUTHENTICATED): no session, or it ended. */
export function isUnauthenticated(error: unknown): boolean {
  if (CombinedGraphQLErrors.is(error)) return error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (ServerError.is(error)) return error.statusCode === 401;
  return false;
}

export function isPasswordChangeRequired(error: unknown): boolean {
  return describeError(error).reason === "PASSWORD_CHANGE_REQUIRED";
}

export function isThrottled(info: ErrorInfo): boolean {
  return info.code === "TOO_MANY_REQUESTS" || info.status === 429;
}
