import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from "typeorm";

/** Audit trail, rotation links between keys, and stored idempotent results. */
export class AuditAndRotation1764300000000 implements MigrationInterface {
  name = "AuditAndRotation1764300000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "audit_events",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "at", type: "datetime", precision: 3, isNullable: false },
          { name: "action", type: "varchar", length: "40", isNullable: false },
          { name: "actor_id", type: "integer", isNullable: true },
          { name: "actor_email", type: "varchar", length: "254", isNullable: true },
          { name: "key_id", type: "integer", isNullable: true },
          { name: "detail", type: "text", isNullable: true },
          { name: "ip", type: "varchar", length: "64", isNullable: true },
          { name: "count", type: "integer", default: 1, isNullable: false },
          { name: "collapse_key", type: "varchar", length: "64", isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex("audit_events", new TableIndex({ name: "idx_audit_events_at", columnNames: ["at", "id"] }));
    await queryRunner.createIndex("audit_events", new TableIndex({ name: "idx_audit_events_action_at", columnNames: ["action", "at"] }));
    await queryRunner.createIndex("audit_events", new TableIndex({ name: "idx_audit_events_actor_email", columnNames: ["actor_email", "at"] }));
    await queryRunner.createIndex("audit_events", new TableIndex({ name: "idx_audit_events_key", columnNames: ["key_id"] }));
    await queryRunner.createIndex("audit_events", new TableIndex({ name: "uq_audit_events_collapse_key", columnNames: ["collapse_key"], isUnique: true }));

    // The key a rotation replaced: it is retired the first time this key is used.
    await queryRunner.addColumn("api_keys", new TableColumn({ name: "replaces_key_id", type: "integer", isNullable: true }));

    await queryRunner.createTable(
      new Table({
        name: "idempotent_results",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "lookup_hash", type: "varchar", length: "64", isNullable: false },
          { name: "user_id", type: "integer", isNullable: false },
          { name: "operation", type: "varchar", length: "40", isNullable: false },
          { name: "arguments_hash", type: "varchar", length: "64", isNullable: false },
          { name: "sealed_result", type: "text", isNullable: true },
          { name: "created_at", type: "datetime", precision: 3, isNullable: false },
        ],
      }),
    );
    await queryRunner.createIndex("idempotent_results", new TableIndex({ name: "uq_idempotent_results_lookup", columnNames: ["lookup_hash"], isUnique: true }));
    await queryRunner.createIndex("idempotent_results", new TableIndex({ name: "idx_idempotent_results_created", columnNames: ["created_at"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("idempotent_results");
    await queryRunner.dropColumn("api_keys", "replaces_key_id");
    await queryRunner.dropTable("audit_events");
  }
}
