import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from "typeorm";

/**
 * Accounts: a password an admin reset must be changed before it is good for anything else
 * (`password_must_change`), when the password last changed, and the audit trail's structured
 * `details` (JSON text) beside its readable `detail`; and an index to tell, when a key whose
 * rotation overlap ran out is presented, that it has a successor (refused as ROTATED, not EXPIRED).
 */
export class Accounts1764800000000 implements MigrationInterface {
  name = "Accounts1764800000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns("users", [
      new TableColumn({ name: "password_must_change", type: "boolean", default: false, isNullable: false }),
      new TableColumn({ name: "password_changed_at", type: "datetime", precision: 3, isNullable: true }),
    ]);
    await queryRunner.addColumn("audit_events", new TableColumn({ name: "details", type: "text", isNullable: true }));
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_replaces", columnNames: ["replaces_key_id"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("api_keys", "idx_api_keys_replaces");
    await queryRunner.dropColumn("audit_events", "details");
    await queryRunner.dropColumn("users", "password_changed_at");
    await queryRunner.dropColumn("users", "password_must_change");
  }
}
