import { MigrationInterface, QueryRunner, TableIndex } from "typeorm";

/**
 * One index per order of the key lists, and one per order within one owner's keys
 * (src/services/api-key-listing.ts), so every page of the admin grid is a keyset range read in
 * index order, in every order, at any number of keys. `(created_at, id)`, `(owner_id, created_at, id)`
 * and `(expires_at, id)` exist already.
 */
export class ListIndexes1765050000000 implements MigrationInterface {
  name = "ListIndexes1765050000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_last_used", columnNames: ["last_used_at", "id"] }));
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_owner_last_used", columnNames: ["owner_id", "last_used_at", "id"] }));
    await queryRunner.createIndex("api_keys", new TableIndex({ name: "idx_api_keys_owner_expires", columnNames: ["owner_id", "expires_at", "id"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("api_keys", "idx_api_keys_owner_expires");
    await queryRunner.dropIndex("api_keys", "idx_api_keys_owner_last_used");
    await queryRunner.dropIndex("api_keys", "idx_api_keys_last_used");
  }
}
