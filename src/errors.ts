import { ApolloServerErrorCode } from "@apollo/server/errors";
import { GraphQLError } from "graphql";

/** The one message every authentication or authorization failure carries (LabKey's wording). */
export const PERMISSION_DENIED_MESSAGE = "User does not have permission to perform this operation.";
export const API_KEYS_DISABLED_MESSAGE = "API key generation is currently not enabled on this server.";

/**
 * Why a credential was refused. INVALID covers unknown or revoked keys, wrong passwords,
 * unknown emails and deactivated users alike, so a caller cannot enumerate any of them.
 */
export type AuthFailureReason = "MISSING" | "EXPIRED" | "ROTATED" | "LEGACY_PREFIX" | "MALFORMED" | "INVALID";

export const AUTH_FAILURE_HINTS: Record<AuthFailureReason, string> = {
  MISSING: "This operation needs credentials: HTTP Basic with username apikey and your API key as the password.",
  EXPIRED: "The API key has expired. Generate a new one.",
  ROTATED: "This key was replaced by rotation and its overlap has ended: use the new key that rotateApiKey returned (myApiKeys lists it, with the same description).",
  LEGACY_PREFIX: 'Remove the "apikey|" prefix: the key is the text after it.',
  MALFORMED: "The credentials could not be read: check the Authorization header and that the whole key was copied.",
  INVALID: "The credentials were not accepted.",
};

/**
 * Mistakes recognisable from the request alone, so naming them reveals nothing about any account
 * or key: their hint replaces the reason's general one.
 */
export type AuthMistake = "KEY_AS_PASSWORD" | "BEARER_SCHEME";

export const AUTH_MISTAKE_HINTS: Record<AuthMistake, string> = {
  KEY_AS_PASSWORD: "API keys go with the username `apikey`: send Basic apikey:<key>, not an email with the key as its password.",
  BEARER_SCHEME: "Bearer tokens are not accepted: send the key as Basic password for the user `apikey`, or in the `apikey` header.",
};

export class UnauthenticatedError extends GraphQLError {
  constructor(
    readonly reason: AuthFailureReason,
    mistake?: AuthMistake,
  ) {
    super(PERMISSION_DENIED_MESSAGE, {
      extensions: { code: "UNAUTHENTICATED", reason, hint: mistake ? AUTH_MISTAKE_HINTS[mistake] : AUTH_FAILURE_HINTS[reason], http: { status: 401 } },
    });
  }
}

/** Why an authenticated caller was refused; unlike AuthFailureReason, nothing here needs hiding. */
export type ForbiddenReason = "READ_ONLY_KEY" | "ADMIN_REQUIRED" | "PASSWORD_CHANGE_REQUIRED" | "API_KEYS_DISABLED" | "SESSION_KEYS_DISABLED" | "COOKIE_SESSION_REQUIRED";

export const FORBIDDEN_HINTS: Record<ForbiddenReason, string> = {
  READ_ONLY_KEY: "This key is read-only: it may run queries, not mutations. Use a key generated without readOnly.",
  ADMIN_REQUIRED: "Only a site admin may do this.",
  PASSWORD_CHANGE_REQUIRED:
    "Your password was reset: it is good only for changeMyPassword(currentPassword, newPassword) until you choose a new one. Your API keys keep working.",
  API_KEYS_DISABLED: "A site admin must enable API keys in the External Tool Access settings first.",
  SESSION_KEYS_DISABLED: "A site admin must enable session keys in the External Tool Access settings first.",
  COOKIE_SESSION_REQUIRED: "Log in (the login mutation) and call this with the session cookie, from a browser or a client that keeps cookies.",
};

export class ForbiddenError extends GraphQLError {
  constructor(readonly reason: ForbiddenReason, message = PERMISSION_DENIED_MESSAGE) {
    super(message, { extensions: { code: "FORBIDDEN", reason, hint: FORBIDDEN_HINTS[reason], http: { status: 403 } } });
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

/** The line in front of bcrypt is full (BCRYPT_QUEUE_MAX): HTTP 503 with Retry-After, at once. */
export class PasswordLineFullError extends GraphQLError {
  constructor(readonly retryAfterSeconds: number) {
    super("Too many password logins are being checked right now. Try again in a moment, or use an API key.", {
      extensions: { code: "SERVICE_UNAVAILABLE", retryAfterSeconds, http: { status: 503 } },
    });
  }
}

/** A result over GRAPHQL_MAX_RESPONSE_BYTES: refused instead of sent. */
export class ResponseTooLargeError extends GraphQLError {
  constructor() {
    super("The result is larger than this server sends in one response: ask for fewer items (first) or fewer fields, and page with `after`.", {
      extensions: { code: "RESPONSE_TOO_LARGE", http: { status: 400 } },
    });
  }
}

export const SERVICE_UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Try again shortly.";

/** The database cannot serve the request now (unreachable, or a write lost to deadlocks): HTTP 503, the process stays up and recovers by itself. */
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
