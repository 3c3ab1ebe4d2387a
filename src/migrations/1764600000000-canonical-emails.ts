import { MigrationInterface, QueryRunner } from "typeorm";
import { canonicalEmail } from "../entities/email";

/**
 * Emails stored in their one canonical form (src/entities/email.ts) and compared byte for byte.
 * MariaDB's utf8mb4_unicode_ci ignored accents and case, so `alíce@example.org` found alice's row
 * while the throttle counted it as another account; utf8mb4_bin makes the comparison exact, as
 * SQLite's already is.
 *
 * Two existing rows with one canonical form are two accounts that would become one address: the
 * migration refuses to guess which one keeps it and stops, naming how many there are, before
 * changing anything.
 */
export class CanonicalEmails1764600000000 implements MigrationInterface {
  name = "CanonicalEmails1764600000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const rows: Array<{ id: unknown; email: unknown }> = await queryRunner.query("SELECT id, email FROM users");
    const byCanonical = new Map<string, number[]>();
    for (const row of rows) {
      const canonical = canonicalEmail(String(row.email));
      byCanonical.set(canonical, [...(byCanonical.get(canonical) ?? []), Number(row.id)]);
    }
    const collisions = [...byCanonical.values()].filter((ids) => ids.length > 1);
    if (collisions.length > 0) {
      const ids = collisions.map((group) => group.join("+")).join(", ");
      throw new Error(
        `Cannot store emails in canonical form: ${collisions.length} email address(es) are shared by more than one user once normalised ` +
          `(user ids ${ids}). Give all but one user of each group another address (UPDATE users SET email = ... WHERE id = ...), then run the migration again.`,
      );
    }
    for (const row of rows) {
      const canonical = canonicalEmail(String(row.email));
      if (canonical !== row.email) await queryRunner.query("UPDATE users SET email = ? WHERE id = ?", [canonical, Number(row.id)]);
    }
    if (queryRunner.connection.options.type === "mysql") {
      await queryRunner.query("ALTER TABLE users MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL");
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type === "mysql") {
      await queryRunner.query("ALTER TABLE users MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL");
    }
  }
}
