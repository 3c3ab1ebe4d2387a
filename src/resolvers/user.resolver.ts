import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { actorOf } from "../auth/actor";
import { ADMIN, authenticatedIdentity, PENDING_PASSWORD_CHANGE } from "../auth/auth-checker";
import type { AuthenticatedContext, Context } from "../auth/context.type";
import { User } from "../entities/user.entity";
import { HeaderMap } from "@apollo/server";
import type { AuthGate } from "../auth/auth-gate";
import { PasswordLineFullError, TooManyRequestsError, UnauthenticatedError } from "../errors";
import { type AccountService, type UserActivity, WrongCurrentPasswordError } from "../services/account.service";
import type { UserService } from "../services/user.service";
import { ChangeMyPasswordArgs } from "./types/change-my-password.args";
import { CreateUserInput } from "./types/create-user.input";
import { UserConnection } from "./types/user-connection.type";
import { UsersArgs } from "./types/users.args";

@Resolver(() => User)
export class UserResolver {
  constructor(
    private readonly users: UserService,
    private readonly accounts: AccountService,
    private readonly gate: PasswordGate,
  ) {}

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

  @Authorized(ADMIN)
  @Query(() => UserConnection, { name: "users", description: "Admin: every user, paged." })
  async listUsers(@Args(() => UsersArgs) args: UsersArgs): Promise<UserConnection> {
    const page = await this.accounts.list(args);
    return { nodes: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor }, countTotal: page.countTotal, totalCount: 0 };
  }

  // Allowed while a reset password awaits its change: it is how that password gets changed.
  @Authorized(PENDING_PASSWORD_CHANGE)
  @Mutation(() => Boolean, { description: "The caller's own password; ends the caller's other login sessions where sessions exist. API keys keep working." })
  async changeMyPassword(@Args(() => ChangeMyPasswordArgs) args: ChangeMyPasswordArgs, @Ctx() context: AuthenticatedContext): Promise<boolean> {
    const { identity, clientIp } = context;
    // The new password's rules first: a mistake there is no guess at the current one.
    this.accounts.checkNewPassword(identity.email, args.currentPassword, args.newPassword);
    // The current password is checked as a login's is (the line in front of bcrypt, the attempt
    // reserved against IP and account first): a stolen API key is no way to guess its owner's password.
    const outcome = await this.gate.checkOwnPassword({ userId: identity.userId, email: identity.email }, clientIp, async () => {
      try {
        await this.accounts.changeOwnPassword(
          // From a cookie session, that session stays; the user's other sessions end.
          { userId: identity.userId, email: identity.email, ip: clientIp, sessionId: identity.method === "session" && identity.sessionId !== undefined ? identity.sessionId : null },
          args.currentPassword,
          args.newPassword,
        );
        return { passed: true, value: null };
      } catch (error) {
        if (error instanceof WrongCurrentPasswordError) return { passed: false, value: error };
        throw error;
      }
    });
    if ("throttled" in outcome) throw outcome.busy ? new PasswordLineFullError(outcome.retryAfterSeconds) : withRetryAfter(new TooManyRequestsError(outcome.retryAfterSeconds), outcome.retryAfterSeconds);
    if (!outcome.passed) throw outcome.value;
    return true;
  }

  @Authorized(ADMIN)
  @Mutation(() => String, {
    description: "Admin: a one-time password the user must change at the next login (it is good for changeMyPassword only until then). Ends the user's sessions; their API keys keep working.",
  })
  resetUserPassword(@Arg("id", () => ID) id: string, @Ctx() context: AuthenticatedContext): Promise<string> {
    return this.accounts.resetPassword(id, actorOf(context));
  }

  @Authorized(ADMIN)
  @Mutation(() => Boolean, { description: "Admin: deletes the user, their keys and sessions; the audit trail stays. Refuses the last active admin." })
  async deleteUser(@Arg("id", () => ID) id: string, @Ctx() context: AuthenticatedContext): Promise<boolean> {
    await this.accounts.deleteUser(id, actorOf(context));
    return true;
  }

  @FieldResolver(() => Int, { description: "API keys the user holds, expired ones not yet purged included." })
  async keyCount(@Root() user: User, @Ctx() context: Context): Promise<number> {
    return (await this.activityOf(user, context)).keyCount;
  }

  @FieldResolver(() => Int, { description: "API keys of the user that have not expired." })
  async activeKeyCount(@Root() user: User, @Ctx() context: Context): Promise<number> {
    return (await this.activityOf(user, context)).activeKeyCount;
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: "The latest use of any of the user's API keys (recorded at most once a minute per key by default); password requests are not recorded.",
  })
  async lastActivityAt(@Root() user: User, @Ctx() context: Context): Promise<Date | null> {
    return (await this.activityOf(user, context)).lastActivityAt;
  }

  @FieldResolver(() => Boolean, { description: "The password was reset by an admin and must be changed (changeMyPassword) before it is good for anything else." })
  async passwordChangeRequired(@Root() user: User, @Ctx() context: Context): Promise<boolean> {
    return (await this.activityOf(user, context)).passwordChangeRequired;
  }

  @FieldResolver(() => Date, { nullable: true, description: "When the password was last changed or reset; null if never since the account was created." })
  async passwordChangedAt(@Root() user: User, @Ctx() context: Context): Promise<Date | null> {
    return (await this.activityOf(user, context)).passwordChangedAt;
  }

  /** The users list reads the activity with the page; elsewhere, one statement per request tick. */
  private activityOf(user: User, context: Context): UserActivity | Promise<UserActivity> {
    if ("keyCount" in user) return user as User & UserActivity;
    let loader = activityLoaders.get(context);
    if (!loader) activityLoaders.set(context, (loader = new ActivityLoader(this.accounts)));
    return loader.load(user.id);
  }
}

/** changeMyPassword's check of the current password, under the login throttle and the bcrypt line. */
export type PasswordGate = Pick<AuthGate, "checkOwnPassword">;

/** Apollo copies `extensions.http.headers` onto the response, as it takes the status from there. */
function withRetryAfter(error: TooManyRequestsError, seconds: number): TooManyRequestsError {
  (error.extensions.http as { headers?: HeaderMap }).headers = new HeaderMap([["retry-after", String(seconds)]]);
  return error;
}

const NO_ACTIVITY: UserActivity = { keyCount: 0, activeKeyCount: 0, lastActivityAt: null, passwordChangeRequired: false, passwordChangedAt: null };
const activityLoaders = new WeakMap<Context, ActivityLoader>();

/**
 * Gathers the users whose activity one request asks for in the same tick (every owner of a page of
 * keys, say) and reads them in one statement instead of one per user.
 */
class ActivityLoader {
  private batch: { ids: Set<number>; result: Promise<Map<number, UserActivity>> } | null = null;

  constructor(private readonly accounts: Pick<AccountService, "activityOf">) {}

  async load(userId: number): Promise<UserActivity> {
    if (!this.batch) {
      const ids = new Set<number>();
      const result = Promise.resolve().then(() => {
        this.batch = null;
        return this.accounts.activityOf([...ids]);
      });
      this.batch = { ids, result };
    }
    this.batch.ids.add(userId);
    // A user deleted meanwhile has no keys and no activity.
    return (await this.batch.result).get(userId) ?? NO_ACTIVITY;
  }
}

@Resolver(() => UserConnection)
export class UserConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: UserConnection): Promise<number> {
    return connection.countTotal();
  }
}
