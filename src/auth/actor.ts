import type { KeyActor } from "../services/api-key.service";
import type { AuthenticatedContext } from "./context.type";

/** The audit trail's view of who is making this request. */
export function actorOf({ identity, clientIp }: AuthenticatedContext): KeyActor {
  return { userId: identity.userId, email: identity.email, ip: clientIp, isAdmin: identity.isAdmin };
}
