import { MigrationInterface, QueryRunner, Table, TableIndex } from "typeorm";

/**
 * Password attempts per client IP and per account, shared by every instance (src/auth/shared-throttle.ts):
 * with the counters only in each process's memory, N instances gave an attacker N times the budget.
 * A row per subject and window; `subject_hash` is a SHA-256 of the subject (`ip:…`, `account:…`),
 * which keeps the key short and fixed.
 */
export class AuthAttempts1764610000000 implements MigrationInterface {
  name = "AuthAttempts1764610000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "auth_attempts",
        columns: [
          { name: "subject_hash", type: "varchar", length: "64", isPrimary: true },
          { name: "attempts", type: "integer", isNullable: false },
          // Milliseconds since the epoch: compared as numbers, the same on both databases.
          { name: "window_ends_at", type: "bigint", isNullable: false },
        ],
      }),
    );
    await queryRunner.createIndex("auth_attempts", new TableIndex({ name: "idx_auth_attempts_window_ends_at", columnNames: ["window_ends_at"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("auth_attempts");
  }
}
