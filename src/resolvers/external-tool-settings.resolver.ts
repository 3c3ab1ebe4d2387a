import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { actorOf } from "../auth/actor";
import type { AuthenticatedContext } from "../auth/context.type";
import { ADMIN } from "../auth/auth-checker";
import { ExternalToolSettings } from "../entities/external-tool-settings.entity";
import type { SettingsService } from "../services/settings.service";
import { ExternalToolSettingsInput } from "./types/external-tool-settings.input";

@Resolver(() => ExternalToolSettings)
export class ExternalToolSettingsResolver {
  constructor(private readonly settings: SettingsService) {}

  // Public: a client may check whether keys can be generated before asking the user to log in.
  @Query(() => ExternalToolSettings)
  externalToolSettings(): Promise<ExternalToolSettings> {
    return this.settings.get();
  }

  @Authorized(ADMIN)
  @Mutation(() => ExternalToolSettings, { description: "Admin." })
  updateExternalToolSettings(@Arg("input", () => ExternalToolSettingsInput) input: ExternalToolSettingsInput, @Ctx() context: AuthenticatedContext): Promise<ExternalToolSettings> {
    return this.settings.update(input, actorOf(context));
  }
}
