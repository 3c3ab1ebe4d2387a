import { MigrationInterface, QueryRunner, Table } from "typeorm";

/**
 * One counter that every revoking write (revoke, delete, rotation, user deactivation) bumps in its
 * own transaction. Instances that keep key lookups in memory poll it and drop their cache when it
 * moves (src/keys/key-cache.ts).
 */
export class RevocationEpoch1764400000000 implements MigrationInterface {
  name = "RevocationEpoch1764400000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "revocation_epoch",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "generation", type: "bigint", default: 0, isNullable: false },
        ],
      }),
    );
    await queryRunner.query("INSERT INTO revocation_epoch (id, generation) VALUES (1, 0)");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("revocation_epoch");
  }
}
