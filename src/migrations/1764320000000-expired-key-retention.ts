import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from "typeorm";

/**
 * Key lifecycle: how long an expired key stays listed before the purge job deletes it,
 * and an index so the purge (and the `expired` filter) finds expired keys without a full scan.
 */
export class ExpiredKeyRetention1764320000000 implements MigrationInterface {
  name = "ExpiredKeyRetention1764320000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      "external_tool_settings",
      new TableColumn({ name: "expired_key_retention_days", type: "integer", default: 30, isNullable: false }),
    );
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_expires", columnNames: ["expires_at", "id"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("api_keys", "idx_api_keys_expires");
    await queryRunner.dropColumn("external_tool_settings", "expired_key_retention_days");
  }
}
