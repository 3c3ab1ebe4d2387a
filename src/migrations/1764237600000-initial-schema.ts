import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from "typeorm";

/** Written with TypeORM's schema API so the same migration serves SQLite and MySQL/MariaDB. */
export class InitialSchema1764237600000 implements MigrationInterface {
  name = "InitialSchema1764237600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "users",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "email", type: "varchar", length: "254", isNullable: false },
          { name: "display_name", type: "varchar", length: "100", isNullable: true },
          { name: "password_hash", type: "varchar", length: "100", isNullable: false },
          { name: "is_admin", type: "boolean", default: false, isNullable: false },
          { name: "active", type: "boolean", default: true, isNullable: false },
          { name: "created_at", type: "datetime", precision: 3, isNullable: false },
        ],
        uniques: [{ name: "uq_users_email", columnNames: ["email"] }],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: "api_keys",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "owner_id", type: "integer", isNullable: false },
          { name: "key_hash", type: "varchar", length: "64", isNullable: false },
          { name: "hint", type: "varchar", length: "16", isNullable: false },
          { name: "description", type: "varchar", length: "256", isNullable: true },
          { name: "created_at", type: "datetime", precision: 3, isNullable: false },
          { name: "expires_at", type: "datetime", precision: 3, isNullable: true },
          { name: "last_used_at", type: "datetime", precision: 3, isNullable: true },
          { name: "read_only", type: "boolean", default: false, isNullable: false },
        ],
      }),
    );
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "uq_api_keys_key_hash", columnNames: ["key_hash"], isUnique: true }));
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_owner_created", columnNames: ["owner_id", "created_at", "id"] }));
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_created", columnNames: ["created_at", "id"] }));
    await queryRunner.createForeignKey(
      "api_keys",
      new TableForeignKey({ name: "fk_api_keys_owner", columnNames: ["owner_id"], referencedTableName: "users", referencedColumnNames: ["id"], onDelete: "CASCADE" }),
    );

    await queryRunner.createTable(
      new Table({
        name: "external_tool_settings",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "api_keys_enabled", type: "boolean", default: false, isNullable: false },
          { name: "api_key_expiration", type: "varchar", length: "16", default: "'NEVER'", isNullable: false },
          { name: "session_keys_enabled", type: "boolean", default: false, isNullable: false },
        ],
      }),
    );
    // Off by default, as in LabKey: an admin turns key generation on.
    await queryRunner.query("INSERT INTO external_tool_settings (id, api_keys_enabled, api_key_expiration, session_keys_enabled) VALUES (1, 0, 'NEVER', 0)");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("external_tool_settings");
    await queryRunner.dropTable("api_keys");
    await queryRunner.dropTable("users");
  }
}
