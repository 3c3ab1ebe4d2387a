import { MigrationInterface, QueryRunner, TableColumn } from "typeorm";

/**
 * `api_keys.replaced_by_key_id`: set on a key during its rotation overlap, so a rotation can tell,
 * from the row it locks, that the key already has a successor and refuse a second one. Filled
 * here from the successors' `replaces_key_id` for overlaps running now.
 */
export class RotationSuccessor1764700000000 implements MigrationInterface {
  name = "RotationSuccessor1764700000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn("api_keys", new TableColumn({ name: "replaced_by_key_id", type: "integer", isNullable: true }));
    if (queryRunner.connection.options.type === "better-sqlite3") {
      await queryRunner.query(
        `UPDATE api_keys SET replaced_by_key_id = (SELECT s.id FROM api_keys s WHERE s.replaces_key_id = api_keys.id ORDER BY s.id DESC LIMIT 1)
         WHERE id IN (SELECT replaces_key_id FROM api_keys WHERE replaces_key_id IS NOT NULL)`,
      );
    } else {
      // MySQL refuses a subquery on the table being updated; a join is its form of the same update.
      await queryRunner.query("UPDATE api_keys o INNER JOIN api_keys s ON s.replaces_key_id = o.id SET o.replaced_by_key_id = s.id");
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn("api_keys", "replaced_by_key_id");
  }
}
