import type { AuthChecker } from "type-graphql";
import { ForbiddenError, UnauthenticatedError } from "../errors";
import type { Context } from "./context.type";
import type { Identity } from "./identity";

export const ADMIN = "ADMIN";
/** Marks the one operation a password awaiting its change may run: changeMyPassword. */
export const PENDING_PASSWORD_CHANGE = "PENDING_PASSWORD_CHANGE";

/**
 * `@Authorized()` needs any identity, `@Authorized(ADMIN)` a site admin. Throws instead of
 * returning false so each refusal carries its own code, reason and HTTP status.
 */
export const authChecker: AuthChecker<Context> = ({ context, info }, roles) => {
  const identity = roles.includes(PENDING_PASSWORD_CHANGE) ? signedIn(context) : authenticatedIdentity(context);
  if (identity.readOnly && info.operation.operation !== "query") throw new ForbiddenError("READ_ONLY_KEY");
  if (roles.includes(ADMIN) && !identity.isAdmin) throw new ForbiddenError("ADMIN_REQUIRED");
  return true;
};

/**
 * What `@Authorized()` checks on a query, for a resolver that checks it itself: `me`, every
 * script's most frequent call, skips type-graphql's middleware chain (three nested async calls
 * per resolution, about a tenth of a cached-key request's instructions).
 */
export function authenticatedIdentity(context: Context): Identity {
  const identity = signedIn(context);
  if (identity.passwordChangeRequired) throw new ForbiddenError("PASSWORD_CHANGE_REQUIRED");
  return identity;
}

function signedIn(context: Context): Identity {
  if (!context.identity) throw new UnauthenticatedError("MISSING");
  return context.identity;
}
