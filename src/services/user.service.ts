import bcrypt from "bcrypt";
import { randomBytes } from "node:crypto";
import { DataSource, QueryFailedError } from "typeorm";
import { describePasswordProblem, isPlausibleEmail } from "../config";
import { User } from "../entities/user.entity";
import { BadUserInputError, NotFoundError } from "../errors";
import { parseId } from "./ids";

export const BCRYPT_COST = 12;
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
    private readonly bcryptCost: number = BCRYPT_COST,
  ) {}

  async findById(id: number): Promise<User | null> {
    return this.dataSource.getRepository(User).findOneBy({ id });
  }

  async create(input: NewUser): Promise<User> {
    const email = input.email.trim().toLowerCase();
    if (!isPlausibleEmail(email)) throw new BadUserInputError("email is not a valid email address.", "email");
    const passwordProblem = describePasswordProblem(input.password);
    if (passwordProblem) throw new BadUserInputError(`password ${passwordProblem}.`, "password");
    const displayName = input.displayName?.trim() || null;
    if (displayName && displayName.length > DISPLAY_NAME_MAX_LENGTH) {
      throw new BadUserInputError(`displayName must be at most ${DISPLAY_NAME_MAX_LENGTH} characters.`, "displayName");
    }
    const repository = this.dataSource.getRepository(User);
    if (await repository.existsBy({ email })) throw new BadUserInputError("A user with this email already exists.", "email");
    const user = repository.create({
      email,
      displayName,
      passwordHash: await bcrypt.hash(input.password, this.bcryptCost),
      isAdmin: input.isAdmin ?? false,
      active: true,
      createdAt: new Date(),
    });
    try {
      return await repository.save(user);
    } catch (error) {
      // Two creations of the same email racing: the unique index decides.
      if (error instanceof QueryFailedError && /unique|duplicate/i.test(error.message)) {
        throw new BadUserInputError("A user with this email already exists.", "email");
      }
      throw error;
    }
  }

  async setActive(rawId: string, active: boolean, actingUserId: number): Promise<User> {
    const id = parseId(rawId);
    const repository = this.dataSource.getRepository(User);
    const user = id === null ? null : await repository.findOneBy({ id });
    if (!user) throw new NotFoundError("No user with this id.");
    if (!active && user.id === actingUserId) throw new BadUserInputError("You cannot deactivate your own account.", "id");
    if (user.active !== active) {
      await repository.update({ id: user.id }, { active });
      user.active = active;
    }
    return user;
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
    const generatedPassword = password ? null : randomBytes(18).toString("base64url");
    const user = await this.create({ email: email ?? "admin@localhost", password: password ?? generatedPassword!, isAdmin: true, displayName: "Site Admin" });
    return { created: true, user, generatedPassword };
  }
}
