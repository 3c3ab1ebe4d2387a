import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { User } from "./user.entity";

export const DESCRIPTION_MAX_LENGTH = 256;

@ObjectType({ description: "An API key as anyone may see it. Neither the secret nor its hash is ever exposed." })
@Entity({ name: "api_keys" })
@Index("idx_api_keys_owner_created", ["ownerId", "createdAt", "id"])
@Index("idx_api_keys_created", ["createdAt", "id"])
@Index("idx_api_keys_expires", ["expiresAt", "id"])
@Index("idx_api_keys_owner_expires", ["ownerId", "expiresAt", "id"])
@Index("idx_api_keys_last_used", ["lastUsedAt", "id"])
@Index("idx_api_keys_owner_last_used", ["ownerId", "lastUsedAt", "id"])
export class ApiKey {
  @Field(() => ID)
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  @Column({ name: "owner_id", type: "integer" })
  ownerId: number;

  @Field(() => User, { description: "The user whose identity and permissions the key carries." })
  @ManyToOne(() => User, { onDelete: "CASCADE", nullable: false })
  @JoinColumn({ name: "owner_id" })
  owner: User;

  /** SHA-256 of the key, hex. Deliberately not a @Field. */
  @Index("uq_api_keys_key_hash", { unique: true })
  @Column({ name: "key_hash", type: "varchar", length: 64 })
  keyHash: string;

  @Field(() => String, { description: "A short non-secret hint to recognise the key, e.g. its type prefix and first characters." })
  @Column({ type: "varchar", length: 16 })
  hint: string;

  @Field(() => String, { nullable: true, description: "Free text given at generation, to tell keys apart (at most 256 characters)." })
  @Column({ type: "varchar", length: DESCRIPTION_MAX_LENGTH, nullable: true })
  description: string | null;

  @Field(() => Date)
  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "Null: never expires." })
  @Column({ name: "expires_at", type: "datetime", precision: 3, nullable: true })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: "Null: never used. Updated at most about once a minute per key." })
  @Column({ name: "last_used_at", type: "datetime", precision: 3, nullable: true })
  lastUsedAt: Date | null;

  @Field(() => Boolean, { description: "A read-only key may run queries only; mutations made with it are refused." })
  @Column({ name: "read_only", type: "boolean", default: false })
  readOnly: boolean;

  /** False for a key issued before keys carried a tag (src/keys/key-tags.ts). */
  @Index("idx_api_keys_tagged")
  @Column({ type: "boolean", default: true })
  tagged: boolean;

  /** Set on a key made by rotation until its first use retires the key it replaced. */
  @Column({ name: "replaces_key_id", type: "integer", nullable: true })
  replacesKeyId: number | null;

  /** Set on a rotated key during its overlap: the key that replaced it. Such a key is not rotated again. */
  @Column({ name: "replaced_by_key_id", type: "integer", nullable: true })
  replacedByKeyId: number | null;

  @Field(() => Boolean)
  get expired(): boolean {
    return isExpired(this.expiresAt, Date.now());
  }
}

export function isExpired(expiresAt: Date | null, nowMs: number): boolean {
  return expiresAt !== null && expiresAt.getTime() <= nowMs;
}
