import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { actorOf } from "../auth/actor";
import { ADMIN } from "../auth/auth-checker";
import type { AuthenticatedContext } from "../auth/context.type";
import { ApiKey } from "../entities/api-key.entity";
import type { ApiKeyPage, ApiKeyService } from "../services/api-key.service";
import { ApiKeyConnection } from "./types/api-key-connection.type";
import { ApiKeysArgs } from "./types/api-keys.args";
import { MyApiKeysArgs } from "./types/my-api-keys.args";
import { GenerateApiKeyArgs } from "./types/generate-api-key.args";
import { GeneratedApiKey } from "./types/generated-api-key.type";
import { RevokeApiKeysWhereArgs } from "./types/revoke-api-keys-where.args";
import { RotateApiKeyArgs } from "./types/rotate-api-key.args";

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  constructor(private readonly keys: ApiKeyService) {}

  @Authorized()
  @Query(() => [ApiKey], { description: "The caller's own API keys, newest first (session keys are not listed); at most `first` of them, see myApiKeysPage for the rest." })
  async myApiKeys(@Args(() => MyApiKeysArgs) args: MyApiKeysArgs, @Ctx() { identity }: AuthenticatedContext): Promise<ApiKey[]> {
    return (await this.keys.listForOwner(identity.userId, args)).nodes;
  }

  @Authorized()
  @Query(() => ApiKeyConnection, { description: "The caller's own API keys, newest first, one page at a time (session keys are not listed)." })
  async myApiKeysPage(@Args(() => MyApiKeysArgs) args: MyApiKeysArgs, @Ctx() { identity }: AuthenticatedContext): Promise<ApiKeyConnection> {
    return toConnection(await this.keys.listForOwner(identity.userId, args));
  }

  @Authorized(ADMIN)
  @Query(() => ApiKeyConnection, {
    description:
      "Admin: every API key on the server, by owner; session keys are not listed. Every order reads an index, so a page costs the same at any number of keys. " +
      "A filter the order's index cannot serve (descriptionContains; expired, unusedSince or createdBefore under an order by another column) is checked on at most 1,000 keys per page and per part of the order (keys with a value, then those without): " +
      "such a page may hold fewer keys than `first`, even none, while hasNextPage is true; endCursor then stands where the page stopped looking. A cursor belongs to its order and filter.",
  })
  async apiKeys(@Args(() => ApiKeysArgs) args: ApiKeysArgs): Promise<ApiKeyConnection> {
    return toConnection(await this.keys.list(args));
  }

  @Authorized()
  @Mutation(() => GeneratedApiKey, { description: "Generate a key for the caller. The secret is returned here once and can never be retrieved again." })
  generateApiKey(@Args(() => GenerateApiKeyArgs) args: GenerateApiKeyArgs, @Ctx() context: AuthenticatedContext): Promise<GeneratedApiKey> {
    return this.keys.generate(actorOf(context), args);
  }

  @Authorized()
  @Mutation(() => GeneratedApiKey, {
    description: "Owner or admin: a new key with the same owner, description and readOnly; the old one works until overlapSeconds pass or the new key is first used.",
  })
  rotateApiKey(@Args(() => RotateApiKeyArgs) args: RotateApiKeyArgs, @Ctx() context: AuthenticatedContext): Promise<GeneratedApiKey> {
    return this.keys.rotate(actorOf(context), args);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Delete one of the caller's own keys." })
  async deleteMyApiKey(@Arg("id", () => ID) id: string, @Ctx() context: AuthenticatedContext): Promise<boolean> {
    await this.keys.deleteOwn(actorOf(context), id);
    return true;
  }

  @Authorized(ADMIN)
  @Mutation(() => Int, { description: "Admin: revoke the given keys; returns how many were revoked." })
  revokeApiKeys(@Arg("ids", () => [ID]) ids: string[], @Ctx() context: AuthenticatedContext): Promise<number> {
    return this.keys.revoke(actorOf(context), ids);
  }

  @Authorized(ADMIN)
  @Mutation(() => Int, { description: "Admin: revoke every API key on the server; returns how many were revoked." })
  revokeAllApiKeys(@Ctx() context: AuthenticatedContext): Promise<number> {
    return this.keys.revokeAll(actorOf(context));
  }

  @Authorized(ADMIN)
  @Mutation(() => Int, {
    description: "Admin: revoke every key matching the filter; dryRun only counts (apiKeys(filter:) on the same filter lists them). An empty filter needs all: true for a real run.",
  })
  revokeApiKeysWhere(@Args(() => RevokeApiKeysWhereArgs) args: RevokeApiKeysWhereArgs, @Ctx() context: AuthenticatedContext): Promise<number> {
    return this.keys.revokeWhere(actorOf(context), args.filter, args.dryRun ?? true, undefined, { all: args.all });
  }
}

function toConnection(page: ApiKeyPage): ApiKeyConnection {
  return {
    nodes: page.nodes,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    countTotal: page.countTotal,
    totalCount: 0, // resolved lazily by ApiKeyConnectionResolver
  };
}

@Resolver(() => ApiKeyConnection)
export class ApiKeyConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: ApiKeyConnection): Promise<number> {
    return connection.countTotal();
  }
}
