import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

@ObjectType()
@Entity({ name: "users" })
export class User {
  @Field(() => ID)
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  /** Stored lower-cased: emails are unique regardless of case. */
  @Field(() => String)
  @Column({ type: "varchar", length: 254, unique: true })
  email: string;

  @Field(() => String, { nullable: true })
  @Column({ name: "display_name", type: "varchar", length: 100, nullable: true })
  displayName: string | null;

  // Deliberately not a @Field: the hash never leaves the server.
  @Column({ name: "password_hash", type: "varchar", length: 100 })
  passwordHash: string;

  @Field(() => Boolean)
  @Column({ name: "is_admin", type: "boolean", default: false })
  isAdmin: boolean;

  @Field(() => Boolean)
  @Column({ type: "boolean", default: true })
  active: boolean;

  @Field(() => Date)
  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;

  /** Set by an admin's reset: the password is then good for changeMyPassword only (GraphQL: passwordChangeRequired). */
  @Column({ name: "password_must_change", type: "boolean", default: false })
  passwordMustChange: boolean;

  @Column({ name: "password_changed_at", type: "datetime", precision: 3, nullable: true })
  passwordChangedAt: Date | null;
}
