import { randomBytes } from "node:crypto";
import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from "typeorm";

/**
 * Login sessions and the session keys bound to them (src/auth/sessions/), and `server_secrets`,
 * named secrets made here so every instance shares them with nothing to configure: the first is
 * the key that signs device cookies (OWASP's device-cookie pattern, src/auth/sessions/device-cookies.ts).
 */
export class Sessions1764900000000 implements MigrationInterface {
  name = "Sessions1764900000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "sessions",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "token_hash", type: "varchar", length: "64", isNullable: false },
          { name: "user_id", type: "integer", isNullable: false },
          { name: "created_at", type: "datetime", precision: 3, isNullable: false },
          { name: "last_seen_at", type: "datetime", precision: 3, isNullable: false },
          { name: "expires_at", type: "datetime", precision: 3, isNullable: false },
          { name: "ip", type: "varchar", length: "64", isNullable: true },
          { name: "user_agent", type: "varchar", length: "256", isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex("sessions", new TableIndex({ name: "uq_sessions_token_hash", columnNames: ["token_hash"], isUnique: true }));
    await queryRunner.createIndex("sessions", new TableIndex({ name: "idx_sessions_user", columnNames: ["user_id"] }));
    await queryRunner.createIndex("sessions", new TableIndex({ name: "idx_sessions_expires", columnNames: ["expires_at"] }));
    await queryRunner.createForeignKey(
      "sessions",
      new TableForeignKey({ name: "fk_sessions_user", columnNames: ["user_id"], referencedTableName: "users", referencedColumnNames: ["id"], onDelete: "CASCADE" }),
    );

    await queryRunner.createTable(
      new Table({
        name: "session_keys",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "session_id", type: "integer", isNullable: false },
          { name: "key_hash", type: "varchar", length: "64", isNullable: false },
          { name: "hint", type: "varchar", length: "16", isNullable: false },
          { name: "description", type: "varchar", length: "256", isNullable: true },
          { name: "created_at", type: "datetime", precision: 3, isNullable: false },
        ],
      }),
    );
    await queryRunner.createIndex("session_keys", new TableIndex({ name: "uq_session_keys_key_hash", columnNames: ["key_hash"], isUnique: true }));
    await queryRunner.createIndex("session_keys", new TableIndex({ name: "idx_session_keys_session", columnNames: ["session_id"] }));
    await queryRunner.createForeignKey(
      "session_keys",
      new TableForeignKey({ name: "fk_session_keys_session", columnNames: ["session_id"], referencedTableName: "sessions", referencedColumnNames: ["id"], onDelete: "CASCADE" }),
    );

    await queryRunner.createTable(
      new Table({
        name: "server_secrets",
        columns: [
          { name: "name", type: "varchar", length: "32", isPrimary: true },
          { name: "secret", type: "varchar", length: "64", isNullable: false },
        ],
      }),
    );
    await queryRunner.query("INSERT INTO server_secrets (name, secret) VALUES (?, ?)", ["device_cookie", randomBytes(32).toString("hex")]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("server_secrets");
    await queryRunner.dropTable("session_keys");
    await queryRunner.dropTable("sessions");
  }
}
