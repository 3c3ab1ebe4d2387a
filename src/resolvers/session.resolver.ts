import { HeaderMap } from "@apollo/server";
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { actorOf } from "../auth/actor";
import { ADMIN } from "../auth/auth-checker";
import type { AuthenticatedContext, BrowserCookies, Context } from "../auth/context.type";
import type { Identity } from "../auth/identity";
import type { DeviceCookies } from "../auth/device-cookies";
import type { AuthGate } from "../auth/auth-gate";
import { Session } from "../entities/session.entity";
import { User } from "../entities/user.entity";
import { BadUserInputError, ForbiddenError, NotFoundError, TooManyRequestsError, UnauthenticatedError } from "../errors";
import type { AuditService } from "../services/audit.service";
import { parseId } from "../services/ids";
import type { SessionService } from "../services/session.service";
import type { UserService } from "../services/user.service";

/** Far above any real email (254) or password (72 bytes): longer input is refused before any work. */
const MAX_LOGIN_FIELD = 1024;

/** Login sessions over GraphQL: login and logout (the cookie), session keys, listing and ending sessions. */
@Resolver(() => Session)
export class SessionResolver {
  constructor(
    private readonly service: SessionService,
    private readonly users: Pick<UserService, "findById">,
    private readonly gate: Pick<AuthGate, "authenticate">,
    private readonly devices: Pick<DeviceCookies, "issue" | "verify" | "lifetimeMs">,
    private readonly audit: Pick<AuditService, "noteAuthFailure">,
  ) {}

  @Mutation(() => User, { description: "Starts a cookie session." })
  async login(@Arg("email", () => String) email: string, @Arg("password", () => String) password: string, @Ctx() context: Context): Promise<User> {
    const cookies = browserOf(context);
    if (email.length > MAX_LOGIN_FIELD || password.length > MAX_LOGIN_FIELD) throw new BadUserInputError("email or password is too long.");
    const device = await this.devices.verify(cookies.device, email);
    // The throttle of Basic passwords: refused before bcrypt when throttled (429 + Retry-After).
    const attempt = await this.gate.authenticate({ kind: "password", email, password }, context.clientIp, device);
    if (!attempt.ok && attempt.throttled) {
      this.audit.noteAuthFailure({ reason: "TOO_MANY_REQUESTS", method: "login", ip: context.clientIp });
      throw withRetryAfter(new TooManyRequestsError(attempt.retryAfterSeconds), attempt.retryAfterSeconds);
    }
    if (!attempt.ok) {
      this.audit.noteAuthFailure({ reason: attempt.reason, method: "login", ip: context.clientIp, userId: attempt.account?.userId, email: attempt.account?.email });
      throw new UnauthenticatedError("INVALID");
    }
    const { userId, email: canonical } = attempt.identity!;
    const current = context.identity?.method === "session" ? context.identity.sessionId : undefined;
    const { token } = await this.service.start({ userId, email: canonical }, { ip: context.clientIp, userAgent: cookies.userAgent }, current);
    cookies.startSession(token);
    cookies.setDevice(await this.devices.issue(canonical), this.devices.lifetimeMs);
    const user = await this.users.findById(userId);
    if (!user) throw new UnauthenticatedError("INVALID");
    return user;
  }

  @Mutation(() => Boolean, { description: "Ends the cookie session and every session key bound to it." })
  async logout(@Ctx() context: Context): Promise<boolean> {
    const cookies = browserOf(context);
    cookies.endSession();
    const identity = context.identity;
    // Only the cookie logs out: a script holding a session key must not end its browser's session.
    if (identity?.method !== "session" || identity.sessionId === undefined) return false;
    return this.service.end(identity.sessionId, actorOf(context as AuthenticatedContext));
  }

  @Authorized()
  @Mutation(() => String, { description: "From a cookie session only, while sessionKeysEnabled: a key bound to this session, never listed." })
  generateSessionKey(@Arg("description", () => String, { nullable: true }) description: string | null, @Ctx() context: AuthenticatedContext): Promise<string> {
    const sessionId = cookieSessionOf(context.identity);
    return this.service.issueKey(sessionId, actorOf(context), description);
  }

  @Authorized()
  @Query(() => [Session], { description: "The caller's live login sessions, most recently used first (at most 50)." })
  mySessions(@Ctx() { identity }: AuthenticatedContext): Promise<Session[]> {
    return this.service.list(identity.userId, identity.sessionId);
  }

  @Authorized()
  @Mutation(() => Int, { description: "Ends the caller's other login sessions (all of them when not called from a session); returns how many ended." })
  endMyOtherSessions(@Ctx() context: AuthenticatedContext): Promise<number> {
    return this.service.endSessionsOf(context.identity.userId, actorOf(context), context.identity.sessionId);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends one of the caller's own login sessions (and its session keys), as listed by mySessions; the current one too, which logs this browser out." })
  async endMySession(@Arg("id", () => ID) id: string, @Ctx() context: AuthenticatedContext): Promise<boolean> {
    const sessionId = parseId(id);
    if (sessionId === null) throw new BadUserInputError("id is not a valid id.", "id");
    if (!(await this.service.endOwn(context.identity.userId, sessionId, actorOf(context)))) throw new NotFoundError("No live session of yours has this id.");
    return true;
  }

  @Authorized(ADMIN)
  @Query(() => [Session], { description: "Admin: a user's live login sessions, most recently used first (at most 50)." })
  sessions(@Arg("userId", () => ID) userId: string, @Ctx() { identity }: AuthenticatedContext): Promise<Session[]> {
    return this.service.list(userIdOf(userId), identity.sessionId);
  }

  @Authorized(ADMIN)
  @Mutation(() => Int, { description: "Admin: ends every login session of a user (and their session keys); returns how many ended." })
  endSessions(@Arg("userId", () => ID) userId: string, @Ctx() context: AuthenticatedContext): Promise<number> {
    return this.service.endSessionsOf(userIdOf(userId), actorOf(context));
  }
}

/** Apollo copies `extensions.http.headers` onto the response, as it takes the status from there. */
function withRetryAfter(error: TooManyRequestsError, seconds: number): TooManyRequestsError {
  (error.extensions.http as { headers?: HeaderMap }).headers = new HeaderMap([["retry-after", String(seconds)]]);
  return error;
}

function browserOf(context: Context): BrowserCookies {
  if (!context.cookies) throw new ForbiddenError("COOKIE_SESSION_REQUIRED", "Login sessions need an HTTP request.");
  return context.cookies;
}

function cookieSessionOf(identity: Identity): number {
  if (identity.method !== "session" || identity.sessionId === undefined) throw new ForbiddenError("COOKIE_SESSION_REQUIRED", "Session keys can only be generated from a login session (a cookie).");
  return identity.sessionId;
}

function userIdOf(raw: string): number {
  const id = parseId(raw);
  if (id === null) throw new BadUserInputError("userId is not a valid id.", "userId");
  return id;
}
