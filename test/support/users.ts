import pino from "pino";
import type { DataSource } from "typeorm";
import { PasswordHasher } from "../../src/auth/password-hasher";
import { AuditService } from "../../src/services/audit.service";
import { UserService } from "../../src/services/user.service";

/**
 * Users made straight in a database, before (or beside) any server: for tests that start servers
 * as separate processes. Nothing is cached anywhere yet, so there is no revocation to wait for.
 */
export function usersOf(dataSource: DataSource, bcryptCost = 4): UserService {
  const silent = pino({ level: "silent" });
  return new UserService(dataSource, new AuditService(dataSource, silent), { bump: async () => undefined, settled: async () => undefined }, new PasswordHasher(bcryptCost));
}
