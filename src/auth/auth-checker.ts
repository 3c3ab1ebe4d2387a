import type { AuthChecker } from "type-graphql";
import { ForbiddenError, UnauthenticatedError } from "../errors";
import type { Context } from "./context.type";

export const ADMIN = "ADMIN";

/**
 * `@Authorized()` needs any identity, `@Authorized(ADMIN)` a site admin. Throws instead of
 * returning false so each refusal carries its own code and HTTP status.
 */
export const authChecker: AuthChecker<Context> = ({ context, info }, roles) => {
  const { identity } = context;
  if (!identity) throw new UnauthenticatedError("MISSING");
  if (identity.readOnly && info.operation.operation !== "query") throw new ForbiddenError();
  if (roles.includes(ADMIN) && !identity.isAdmin) throw new ForbiddenError();
  return true;
};
