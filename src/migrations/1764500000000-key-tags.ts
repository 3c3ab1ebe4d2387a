import { randomBytes } from "node:crypto";
import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from "typeorm";

/**
 * Tagged keys (src/keys/key-tags.ts): the server's secret for key tags, made here so that every
 * instance shares it with nothing to configure, and `api_keys.tagged`, false for the keys that
 * exist now (issued without a tag) and true by default for every key issued from now on.
 */
export class KeyTags1764500000000 implements MigrationInterface {
  name = "KeyTags1764500000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "key_tag_secret",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "secret", type: "varchar", length: "64", isNullable: false },
        ],
      }),
    );
    await queryRunner.query("INSERT INTO key_tag_secret (id, secret) VALUES (1, ?)", [randomBytes(32).toString("hex")]);
    await queryRunner.addColumn("api_keys", new TableColumn({ name: "tagged", type: "boolean", default: true, isNullable: false }));
    await queryRunner.query("UPDATE api_keys SET tagged = 0");
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_tagged", columnNames: ["tagged"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("api_keys", "idx_api_keys_tagged");
    await queryRunner.dropColumn("api_keys", "tagged");
    await queryRunner.dropTable("key_tag_secret");
  }
}
