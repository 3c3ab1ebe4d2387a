import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { User } from "./user.entity";

/** Longest User-Agent kept for a session's listing; the rest is cut. */
export const USER_AGENT_MAX_LENGTH = 256;

/**
 * A login session (src/auth/sessions/). The browser holds the token in a cookie; the database
 * holds only its SHA-256. Idle expiry is lastSeenAt + the idle timeout; expiresAt is absolute.
 */
@ObjectType({ description: "A login session (a browser's cookie). Neither the cookie value nor its hash is ever exposed." })
@Entity({ name: "sessions" })
@Index("idx_sessions_user", ["userId"])
@Index("idx_sessions_expires", ["expiresAt"])
export class Session {
  @Field(() => ID)
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  /** SHA-256 of the cookie value, hex. Deliberately not a @Field. */
  @Index("uq_sessions_token_hash", { unique: true })
  @Column({ name: "token_hash", type: "varchar", length: 64 })
  tokenHash: string;

  @Column({ name: "user_id", type: "integer" })
  userId: number;

  @ManyToOne(() => User, { onDelete: "CASCADE", nullable: false })
  @JoinColumn({ name: "user_id" })
  user: User;

  @Field(() => Date)
  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;

  @Field(() => Date, { description: "Last request made with the session or one of its session keys; written at most about once a minute." })
  @Column({ name: "last_seen_at", type: "datetime", precision: 3 })
  lastSeenAt: Date;

  @Field(() => Date, { description: "When the session ends whatever its activity (the absolute maximum)." })
  @Column({ name: "expires_at", type: "datetime", precision: 3 })
  expiresAt: Date;

  @Field(() => String, { nullable: true, description: "Client IP at login." })
  @Column({ type: "varchar", length: 64, nullable: true })
  ip: string | null;

  @Field(() => String, { nullable: true, description: "User-Agent at login (at most 256 characters)." })
  @Column({ name: "user_agent", type: "varchar", length: USER_AGENT_MAX_LENGTH, nullable: true })
  userAgent: string | null;

  @Field(() => Boolean, { description: "True for the session the request itself was made with." })
  current: boolean;
}

/** A key bound to a session: works only while its session does, never listed with API keys. */
@Entity({ name: "session_keys" })
@Index("idx_session_keys_session", ["sessionId"])
export class SessionKey {
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  @Column({ name: "session_id", type: "integer" })
  sessionId: number;

  @ManyToOne(() => Session, { onDelete: "CASCADE", nullable: false })
  @JoinColumn({ name: "session_id" })
  session: Session;

  /** SHA-256 of the key, hex. */
  @Index("uq_session_keys_key_hash", { unique: true })
  @Column({ name: "key_hash", type: "varchar", length: 64 })
  keyHash: string;

  @Column({ type: "varchar", length: 16 })
  hint: string;

  @Column({ type: "varchar", length: 256, nullable: true })
  description: string | null;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;
}
