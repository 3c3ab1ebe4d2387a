import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Stored idempotent results are now found by an HMAC under the server's secret instead of a plain
 * SHA-256 of the client's idempotencyKey (src/services/idempotency.service.ts). Rows stored the old
 * way can no longer be found, and each holds a sealed live key: they are deleted here rather than
 * left until they age out. A client retrying across the upgrade gets a second key instead of a replay.
 */
export class KeyedIdempotencyLookup1764710000000 implements MigrationInterface {
  name = "KeyedIdempotencyLookup1764710000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DELETE FROM idempotent_results");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Rows stored under the keyed lookup mean nothing to the old code: the same cleanup.
    await queryRunner.query("DELETE FROM idempotent_results");
  }
}
