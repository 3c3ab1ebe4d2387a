import { randomBytes } from "node:crypto";
import type { DataSource } from "typeorm";
import { isPlausibleEmail } from "../config";
import type { PasswordHasher } from "./password-hasher";
import { canonicalEmail } from "../entities/email";
import { User } from "../entities/user.entity";
import { inTransaction } from "../db/transactions";
import { AuditAction, type AuditActor, SYSTEM_ACTOR } from "../entities/audit-event.entity";
import { BadUserInputError, NotFoundError } from "../errors";
import type { AuditService } from "./audit.service";
import { isUniqueViolation } from "../db/errors";
import { parseId } from "./ids";
import { describePasswordProblem } from "./password-policy";
import type { RevocationEpoch } from "../keys/revocation-epoch";
import { refuseUnsafeCharacters, refuseUnsafeProseCharacters } from "./user-text";
import type { SessionService } from "./session.service";

const DISPLAY_NAME_MAX_LENGTH = 100;

export interface NewUser {
  email: string;
  password: string;
  displayName?: string | null;
  isAdmin?: boolean | null;
}

export class UserService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    /** Deactivating a user ends their keys: bumped and waited for like a revocation. */
    private readonly revocations: Pick<RevocationEpoch, "bump" | "settled">,
    /** Makes every password hash, at the configured cost (BCRYPT_COST). */
    private readonly passwords: Pick<PasswordHasher, "hash">,
    /** Deactivation ends the user's login sessions. */
    private readonly sessions?: Pick<SessionService, "endAllForUser">,
  ) {}

  async findById(id: number): Promise<User | null> {
    return this.dataSource.getRepository(User).findOneBy({ id });
  }

  async create(input: NewUser, actor: AuditActor = SYSTEM_ACTOR): Promise<User> {
    refuseUnsafeCharacters(input.email, "email");
    const email = canonicalEmail(input.email);
    if (!isPlausibleEmail(email)) throw new BadUserInputError("email is not a valid email address.", "email");
    const passwordProblem = describePasswordProblem(input.password, email);
    if (passwordProblem) throw new BadUserInputError(`password ${passwordProblem}.`, "password");
    const displayName = input.displayName?.trim() || null;
    if (displayName && displayName.length > DISPLAY_NAME_MAX_LENGTH) {
      throw new BadUserInputError(`displayName must be at most ${DISPLAY_NAME_MAX_LENGTH} characters.`, "displayName");
    }
    if (displayName) refuseUnsafeProseCharacters(displayName, "displayName");
    const passwordHash = await this.passwords.hash(input.password);
    const isAdmin = input.isAdmin ?? false;
    try {
      return await inTransaction(this.dataSource, async (manager) => {
        const repository = manager.getRepository(User);
        if (await repository.existsBy({ email })) throw new BadUserInputError("A user with this email already exists.", "email");
        const user = repository.create({ email, displayName, passwordHash, isAdmin, active: true, createdAt: new Date() });
        const inserted = await repository.insert(user);
        user.id = Number(inserted.identifiers[0].id);
        await this.audit.record(
          { action: AuditAction.USER_CREATED, actor, detail: `user ${user.id} ${email}${isAdmin ? " (site admin)" : ""}`, details: { userId: user.id, email, isAdmin } },
          manager,
        );
        return user;
      });
    } catch (error) {
      // Two creations of the same email racing: the unique index decides.
      if (isUniqueViolation(error)) throw new BadUserInputError("A user with this email already exists.", "email");
      throw error;
    }
  }

  async setActive(rawId: string, active: boolean, actor: AuditActor): Promise<User> {
    const id = parseId(rawId);
    if (id === null) throw new NotFoundError("No user with this id.");
    const { user, deactivated } = await inTransaction(this.dataSource, async (manager) => {
      const repository = manager.getRepository(User);
      const user = await repository.findOneBy({ id });
      if (!user) throw new NotFoundError("No user with this id.");
      if (!active && user.id === actor.userId) throw new BadUserInputError("You cannot deactivate your own account.", "id");
      const deactivated = user.active && !active;
      if (user.active !== active) {
        if (deactivated) {
          await this.revocations.bump(manager);
          await this.sessions?.endAllForUser(user.id, { manager });
        }
        await repository.update({ id: user.id }, { active });
        user.active = active;
        await this.audit.record(
          { action: active ? AuditAction.USER_ACTIVATED : AuditAction.USER_DEACTIVATED, actor, detail: `user ${user.id} ${user.email}`, details: { userId: user.id, email: user.email } },
          manager,
        );
      }
      return { user, deactivated };
    });
    if (deactivated) await this.revocations.settled();
    return user;
  }

  /**
   * After a login proved `password`: a hash made at a lower cost than today's is replaced. Only
   * if it is still the stored one, so a password changed meanwhile is never overwritten.
   */
  async rehashPassword(userId: number, outdatedHash: string, password: string): Promise<void> {
    const fresh = await this.passwords.hash(password);
    await inTransaction(this.dataSource, (manager) => manager.query("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", [fresh, userId, outdatedHash]));
  }

  async count(): Promise<number> {
    return this.dataSource.getRepository(User).count();
  }

  /**
   * First start: with no user at all, create the site admin, from ADMIN_EMAIL/ADMIN_PASSWORD
   * or as admin@localhost with a random password that the caller shows once.
   */
  async ensureInitialAdmin(email: string | undefined, password: string | undefined): Promise<{ created: false } | { created: true; user: User; generatedPassword: string | null }> {
    if ((await this.count()) > 0) return { created: false };
    // Checked here, not with the rest of the configuration: it matters on the first start only.
    const problem = password === undefined ? null : describePasswordProblem(password, email);
    if (problem) throw new InitialAdminPasswordError(`ADMIN_PASSWORD ${problem} (it sets the first site admin's password).`);
    const generatedPassword = password ? null : randomBytes(18).toString("base64url");
    const user = await this.create({ email: email ?? "admin@localhost", password: password ?? generatedPassword!, isAdmin: true, displayName: "Site Admin" });
    return { created: true, user, generatedPassword };
  }
}

/** A first start with an ADMIN_PASSWORD that the password rules refuse. */
export class InitialAdminPasswordError extends Error {
  override name = "InitialAdminPasswordError";
}
