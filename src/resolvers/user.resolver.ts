import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { actorOf } from "../auth/actor";
import { ADMIN, authenticatedIdentity } from "../auth/auth-checker";
import type { AuthenticatedContext, Context } from "../auth/context.type";
import { User } from "../entities/user.entity";
import { UnauthenticatedError } from "../errors";
import type { UserService } from "../services/user.service";
import { CreateUserInput } from "./types/create-user.input";

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly users: UserService) {}

  // Authenticated like @Authorized() would, without its middleware chain (see authenticatedIdentity);
  // synchronous when the key lookup already read the profile, so graphql-js finishes in one pass.
  @Query(() => User, { description: "The authenticated user." })
  me(@Ctx() context: Context): User | Promise<User> {
    const identity = authenticatedIdentity(context);
    // Read by the authenticator in the request's one statement (an active user, by construction).
    if (identity.profile) {
      const { displayName, createdAt } = identity.profile;
      return Object.assign(new User(), { id: identity.userId, email: identity.email, displayName, isAdmin: identity.isAdmin, active: true, createdAt });
    }
    return this.readUser(identity.userId);
  }

  private async readUser(userId: number): Promise<User> {
    const user = await this.users.findById(userId);
    // Deleted between authentication and this read.
    if (!user) throw new UnauthenticatedError("INVALID");
    return user;
  }

  @Authorized(ADMIN)
  @Mutation(() => User, { description: "Admin." })
  createUser(@Arg("input", () => CreateUserInput) input: CreateUserInput, @Ctx() context: AuthenticatedContext): Promise<User> {
    return this.users.create(input, actorOf(context));
  }

  @Authorized(ADMIN)
  @Mutation(() => User, { description: "Admin: a deactivated user's keys and password stop authenticating; nothing is deleted." })
  setUserActive(@Arg("id", () => ID) id: string, @Arg("active", () => Boolean) active: boolean, @Ctx() context: AuthenticatedContext): Promise<User> {
    return this.users.setActive(id, active, actorOf(context));
  }
}
