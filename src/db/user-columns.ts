import { User } from "../entities/user.entity";
import { fromSqlBoolean, fromSqlDateTime } from "./data-source";

/** The users columns a raw query selects to hydrate a joined User (alias `u`, prefix `u_`). */
export const JOINED_USER_COLUMNS = "u.id AS u_id, u.email AS u_email, u.display_name AS u_display_name, u.is_admin AS u_is_admin, u.active AS u_active, u.created_at AS u_created_at";

export function hydrateJoinedUser(row: Record<string, unknown>): User {
  return Object.assign(new User(), {
    id: Number(row.u_id),
    email: String(row.u_email),
    displayName: (row.u_display_name as string | null) ?? null,
    isAdmin: fromSqlBoolean(row.u_is_admin),
    active: fromSqlBoolean(row.u_active),
    createdAt: fromSqlDateTime(row.u_created_at)!,
  });
}
