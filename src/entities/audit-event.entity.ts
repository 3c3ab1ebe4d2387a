import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";
import { User } from "./user.entity";

export enum AuditAction {
  API_KEY_GENERATED = "API_KEY_GENERATED",
  API_KEY_DELETED = "API_KEY_DELETED",
  API_KEYS_REVOKED = "API_KEYS_REVOKED",
  ALL_API_KEYS_REVOKED = "ALL_API_KEYS_REVOKED",
  API_KEY_ROTATED = "API_KEY_ROTATED",
  ROTATED_KEY_RETIRED = "ROTATED_KEY_RETIRED",
  SETTINGS_CHANGED = "SETTINGS_CHANGED",
  USER_CREATED = "USER_CREATED",
  USER_ACTIVATED = "USER_ACTIVATED",
  USER_DEACTIVATED = "USER_DEACTIVATED",
  USER_DELETED = "USER_DELETED",
  PASSWORD_CHANGED = "PASSWORD_CHANGED",
  PASSWORD_RESET = "PASSWORD_RESET",
  EXPIRED_KEYS_PURGED = "EXPIRED_KEYS_PURGED",
  AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED",
  USER_LOGGED_IN = "USER_LOGGED_IN",
  USER_LOGGED_OUT = "USER_LOGGED_OUT",
  SESSIONS_ENDED = "SESSIONS_ENDED",
  SESSION_KEY_GENERATED = "SESSION_KEY_GENERATED",
}

/** Who did something: a user through the API, an operator through the CLI, or the server itself. */
export interface AuditActor {
  userId: number | null;
  email: string | null;
  ip: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { userId: null, email: null, ip: null };

export type AuditDetailValue = string | number | boolean | null | AuditDetailValue[] | { [name: string]: AuditDetailValue };
/** What an event is about, for programs: ids, counts, old and new values. Never a secret. */
export type AuditDetails = Record<string, AuditDetailValue>;

@ObjectType()
@Entity({ name: "audit_events" })
@Index("idx_audit_events_at", ["at", "id"])
@Index("idx_audit_events_action_at", ["action", "at"])
@Index("idx_audit_events_actor_email", ["actorEmail", "at"])
@Index("idx_audit_events_key", ["keyId"])
export class AuditEvent {
  @Field(() => ID)
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  @Field(() => Date)
  @Column({ type: "datetime", precision: 3 })
  at: Date;

  @Field(() => String, {
    description:
      "e.g. API_KEY_GENERATED, API_KEY_DELETED, API_KEYS_REVOKED, ALL_API_KEYS_REVOKED, API_KEY_ROTATED, SETTINGS_CHANGED, USER_CREATED, USER_ACTIVATED, USER_DEACTIVATED, EXPIRED_KEYS_PURGED, AUTHENTICATION_FAILED; also ROTATED_KEY_RETIRED, USER_DELETED, PASSWORD_CHANGED, PASSWORD_RESET, USER_LOGGED_IN, USER_LOGGED_OUT, SESSIONS_ENDED, SESSION_KEY_GENERATED",
  })
  @Column({ type: "varchar", length: 40 })
  action: string;

  @Column({ name: "actor_id", type: "integer", nullable: true })
  actorId: number | null;

  /** Kept beside actor_id so the trail still says who acted after the user is deleted. */
  @Field(() => String, { nullable: true, description: "Who acted, as recorded at the time: still there after the user is deleted (then actor is null)." })
  @Column({ name: "actor_email", type: "varchar", length: 254, nullable: true })
  actorEmail: string | null;

  @Field(() => User, { nullable: true })
  actor: User | null;

  @Field(() => ID, { nullable: true })
  @Column({ name: "key_id", type: "integer", nullable: true })
  keyId: number | null;

  @Field(() => String, { nullable: true, description: "Human-readable details (counts, old and new values, reason); never a secret." })
  @Column({ type: "text", nullable: true })
  detail: string | null;

  /** `details` as stored: JSON text. */
  @Column({ name: "details", type: "text", nullable: true })
  detailsJson: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: "The same facts as detail, for programs: ids, counts, filters, old and new values (each action's fields are listed in the documentation). Never a secret.",
  })
  details: AuditDetails | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "varchar", length: 64, nullable: true })
  ip: string | null;

  @Field(() => Int, { description: "How many identical events this row stands for (collapsed failures)." })
  @Column({ type: "integer", default: 1 })
  count: number;

  /** Identical authentication failures of one 10-minute window share this key and one row. */
  @Column({ name: "collapse_key", type: "varchar", length: 64, nullable: true })
  collapseKey: string | null;
}
