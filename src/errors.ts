import { ApolloServerErrorCode } from "@apollo/server/errors";
import { GraphQLError } from "graphql";

/** The one message every authentication or authorization failure carries (LabKey's wording). */
export const PERMISSION_DENIED_MESSAGE = "User does not have permission to perform this operation.";
export const API_KEYS_DISABLED_MESSAGE = "API key generation is currently not enabled on this server.";

/**
 * Why a credential was refused. INVALID covers unknown or revoked keys, wrong passwords,
 * unknown emails and deactivated users alike, so a caller cannot enumerate any of them.
 */
export type AuthFailureReason = "MISSING" | "EXPIRED" | "LEGACY_PREFIX" | "MALFORMED" | "INVALID";

export const AUTH_FAILURE_HINTS: Record<AuthFailureReason, string> = {
  MISSING: "This operation needs credentials: HTTP Basic with username apikey and your API key as the password.",
  EXPIRED: "The API key has expired. Generate a new one.",
  LEGACY_PREFIX: 'Remove the "apikey|" prefix: the key is the text after it.',
  MALFORMED: "The credentials could not be read: check the Authorization header and that the whole key was copied.",
  INVALID: "The credentials were not accepted.",
};

export class UnauthenticatedError extends GraphQLError {
  constructor(readonly reason: AuthFailureReason) {
    super(PERMISSION_DENIED_MESSAGE, {
      extensions: { code: "UNAUTHENTICATED", reason, hint: AUTH_FAILURE_HINTS[reason], http: { status: 401 } },
    });
  }
}

export class ForbiddenError extends GraphQLError {
  constructor(message = PERMISSION_DENIED_MESSAGE) {
    super(message, { extensions: { code: "FORBIDDEN", http: { status: 403 } } });
  }
}

export class BadUserInputError extends GraphQLError {
  constructor(message: string, argumentName?: string) {
    super(message, { extensions: { code: "BAD_USER_INPUT", ...(argumentName ? { argumentName } : {}), http: { status: 400 } } });
  }
}

export class NotFoundError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: "NOT_FOUND", http: { status: 404 } } });
  }
}

export const TOO_MANY_REQUESTS_MESSAGE = "Too many failed authentication attempts. Try again later.";

/** Brute-force throttle: sent as HTTP 429 with Retry-After. */
export class TooManyRequestsError extends GraphQLError {
  constructor(readonly retryAfterSeconds: number) {
    super(TOO_MANY_REQUESTS_MESSAGE, { extensions: { code: "TOO_MANY_REQUESTS", retryAfterSeconds, http: { status: 429 } } });
  }
}

export const SERVICE_UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Try again shortly.";

/** The database cannot be reached: HTTP 503, the process stays up and recovers by itself. */
export class ServiceUnavailableError extends GraphQLError {
  constructor() {
    super(SERVICE_UNAVAILABLE_MESSAGE, { extensions: { code: "SERVICE_UNAVAILABLE", http: { status: 503 } } });
  }
}

export const INTERNAL_ERROR_MESSAGE = "Internal server error";

/** A request the server cannot read (bad URL, body too large or not JSON): answered before GraphQL runs. */
export class BadRequestError extends GraphQLError {
  constructor(message: string, status: 400 | 413 | 431 = 400) {
    super(message, { extensions: { code: "BAD_REQUEST", http: { status } } });
  }
}

/** A failure of ours: the client sees this and nothing of the cause (which is logged). */
export class InternalServerError extends GraphQLError {
  constructor() {
    super(INTERNAL_ERROR_MESSAGE, { extensions: { code: "INTERNAL_SERVER_ERROR", http: { status: 500 } } });
  }
}

/** Codes this service sets on purpose; anything else reaching the client is masked. */
export const PUBLIC_ERROR_CODES: ReadonlySet<string> = new Set<string>([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "TOO_MANY_REQUESTS",
  "SERVICE_UNAVAILABLE",
  // Apollo's own request-level codes: they describe the client's request, never our internals.
  ApolloServerErrorCode.BAD_USER_INPUT,
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
]);
