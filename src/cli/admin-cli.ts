import "reflect-metadata";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { GraphQLError } from "graphql";
import { ConfigError, loadConfig } from "../config";
import type { AuditActor } from "../entities/audit-event.entity";
import { ApiKeyExpiration, type ExternalToolSettings } from "../entities/external-tool-settings.entity";
import { User } from "../entities/user.entity";
import { createLogger } from "../observability/logger";
import { createRuntime, type Runtime } from "../runtime";
import type { Services } from "../services";
import { formatTable, type InputStream, type OutputStream, ProgressBar, promptHidden, promptLine, readFirstLine } from "./terminal";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
}

/** An operator at the server's console: no account, so the audit trail records no user or IP. */
export const CLI_ACTOR: AuditActor = { userId: null, email: null, ip: null };
const BATCH_SIZE = 500;

const EXPIRATIONS: Record<string, ApiKeyExpiration> = {
  never: ApiKeyExpiration.NEVER,
  "7d": ApiKeyExpiration.DAYS_7,
  "30d": ApiKeyExpiration.DAYS_30,
  "90d": ApiKeyExpiration.DAYS_90,
  "180d": ApiKeyExpiration.DAYS_180,
  "365d": ApiKeyExpiration.DAYS_365,
};

interface Command {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  positionals: [min: number, max: number];
  run(ctx: CommandContext): Promise<number>;
}

interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  services: Services;
  dataSource: DataSource;
  io: CliIo;
}

/** A problem with how the command was called: exit 2 with the usage. */
class UsageError extends Error {}

const COMMANDS: Record<string, Command> = {
  "create-user": {
    usage: "create-user <email> [--admin] [--display-name NAME]",
    summary: "Create a user. The password is prompted for on a terminal, or read as the first line of stdin.",
    options: { admin: { type: "boolean" }, "display-name": { type: "string" } },
    positionals: [1, 1],
    async run({ values, positionals: [email], services, io }) {
      const password = await readPassword(io);
      if (password === null) throw new UsageError("no password given: type it at the prompt or pipe it on stdin (never as an argument)");
      const user = await services.users.create({ email, password, isAdmin: values.admin === true, displayName: values["display-name"] as string | undefined }, CLI_ACTOR);
      io.stdout.write(`Created user #${user.id} ${user.email}${user.isAdmin ? " (site admin)" : ""}.\n`);
      return EXIT_OK;
    },
  },
  "set-active": {
    usage: "set-active <email|id> <true|false>",
    summary: "Activate or deactivate a user. A deactivated user's keys stay but stop working.",
    options: {},
    positionals: [2, 2],
    async run({ positionals: [who, flag], services, dataSource, io }) {
      const active = parseBoolean(flag);
      const user = await findUser(dataSource, who);
      if (!user) return fail(io, `No user ${JSON.stringify(who)}.`);
      const updated = await services.users.setActive(String(user.id), active, CLI_ACTOR);
      io.stdout.write(`User #${updated.id} ${updated.email} is now ${updated.active ? "active" : "inactive"}.\n`);
      return EXIT_OK;
    },
  },
  "list-keys": {
    usage: "list-keys [--owner EMAIL] [--expired]",
    summary: "List API keys (newest first) as a table; never the secret.",
    options: { owner: { type: "string" }, expired: { type: "boolean" } },
    positionals: [0, 0],
    async run({ values, services, io }) {
      const rows: string[][] = [];
      const now = new Date();
      let after: string | null = null;
      do {
        const page = await services.apiKeys.list({ filter: { ownerEmail: values.owner as string | undefined, expired: values.expired ? true : undefined }, first: BATCH_SIZE, after }, now);
        for (const key of page.nodes) {
          const flags = [key.expiresAt && key.expiresAt <= now ? "expired" : "", key.readOnly ? "read-only" : "", key.owner.active ? "" : "owner-inactive"].filter(Boolean);
          rows.push([String(key.id), key.owner.email, key.hint, key.description ?? "", shortDate(key.createdAt), key.expiresAt ? shortDate(key.expiresAt) : "never", key.lastUsedAt ? shortDate(key.lastUsedAt) : "never", flags.join(",")]);
        }
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      if (rows.length === 0) {
        io.stdout.write("No keys.\n");
        return EXIT_OK;
      }
      io.stdout.write(formatTable(["ID", "OWNER", "HINT", "DESCRIPTION", "CREATED", "EXPIRES", "LAST USED", "FLAGS"], rows));
      io.stdout.write(`${rows.length} key${rows.length === 1 ? "" : "s"}.\n`);
      return EXIT_OK;
    },
  },
  "revoke-key": {
    usage: "revoke-key <id>...",
    summary: "Revoke (delete) the keys with these ids. Exit 1 if any id was not found.",
    options: {},
    positionals: [1, Infinity],
    async run({ positionals, services, io }) {
      const bad = positionals.filter((id) => !/^[1-9]\d{0,15}$/.test(id));
      if (bad.length) throw new UsageError(`not key ids: ${bad.join(", ")}`);
      const ids = [...new Set(positionals)];
      const revoked = await services.apiKeys.revoke(CLI_ACTOR, ids);
      io.stdout.write(`Revoked ${revoked} key${revoked === 1 ? "" : "s"}.\n`);
      if (revoked < ids.length) return fail(io, `${ids.length - revoked} of ${ids.length} ids matched no key.`);
      return EXIT_OK;
    },
  },
  "revoke-all-keys": {
    usage: "revoke-all-keys [--yes]",
    summary: "Revoke every API key of every user. Asks for confirmation unless --yes; without a terminal, --yes is required.",
    options: { yes: { type: "boolean" } },
    positionals: [0, 0],
    async run({ values, services, io }) {
      const total = await (await services.apiKeys.list({ first: 0 })).countTotal();
      if (!values.yes) {
        if (!io.stdin.isTTY) throw new UsageError("refusing to revoke all keys without confirmation: stdin is not a terminal, so pass --yes");
        const answer = await promptLine(`Revoke all ${total} API keys of all users? Every script using one stops working. Type "yes" to confirm: `, io.stdin, io.stderr);
        if (answer?.trim().toLowerCase() !== "yes") return fail(io, "Aborted; no key was revoked.");
      }
      // One statement in one transaction, as revokeAllApiKeys does: all or nothing, and one
      // ALL_API_KEYS_REVOKED audit event. A progress bar could not move inside it, so none.
      if (io.stderr.isTTY) io.stderr.write(`Revoking ${total} keys…\n`);
      const revoked = await services.apiKeys.revokeAll(CLI_ACTOR);
      io.stdout.write(`Revoked ${revoked} key${revoked === 1 ? "" : "s"}.\n`);
      return EXIT_OK;
    },
  },
  settings: {
    usage: "settings [--enable-api-keys|--disable-api-keys] [--expiration never|7d|30d|90d|180d|365d] [--retention-days N]",
    summary: "Change the External Tool Access settings (if any option is given), then print them.",
    options: {
      "enable-api-keys": { type: "boolean" },
      "disable-api-keys": { type: "boolean" },
      expiration: { type: "string" },
      "retention-days": { type: "string" },
    },
    positionals: [0, 0],
    async run({ values, services, io }) {
      if (values["enable-api-keys"] && values["disable-api-keys"]) throw new UsageError("--enable-api-keys and --disable-api-keys exclude each other");
      const change: Parameters<Services["settings"]["update"]>[0] = {};
      if (values["enable-api-keys"]) change.apiKeysEnabled = true;
      if (values["disable-api-keys"]) change.apiKeysEnabled = false;
      if (values.expiration !== undefined) {
        const expiration = EXPIRATIONS[String(values.expiration).toLowerCase()];
        if (!expiration) throw new UsageError(`--expiration must be one of ${Object.keys(EXPIRATIONS).join(", ")}`);
        change.apiKeyExpiration = expiration;
      }
      if (values["retention-days"] !== undefined) {
        const raw = String(values["retention-days"]);
        if (!/^\d{1,9}$/.test(raw)) throw new UsageError("--retention-days must be a whole number of days");
        change.expiredKeyRetentionDays = Number(raw);
      }
      const settings = Object.keys(change).length ? await services.settings.update(change, CLI_ACTOR) : await services.settings.get();
      io.stdout.write(describeSettings(settings));
      return EXIT_OK;
    },
  },
  "purge-expired": {
    usage: "purge-expired",
    summary: "Delete the keys that expired more than the retention period ago (what the server's hourly job does).",
    options: {},
    positionals: [0, 0],
    async run({ services, io }) {
      const bar = new ProgressBar(io.stderr, "Purging");
      const result = await services.keyRetention.purgeExpired(new Date(), bar.enabled ? { onProgress: (done, total) => bar.update(done, total) } : {}, CLI_ACTOR);
      bar.finish();
      io.stdout.write(
        `Purged ${result.purged} expired key${result.purged === 1 ? "" : "s"} (retention ${result.retentionDays} day${result.retentionDays === 1 ? "" : "s"}: expired at or before ${result.cutoff.toISOString()}).\n`,
      );
      return EXIT_OK;
    },
  },
};

export function usage(): string {
  const lines = ["Usage: npm run admin -- <command> [options]", "", "Commands:"];
  for (const command of Object.values(COMMANDS)) lines.push(`  ${command.usage}`, `      ${command.summary}`);
  lines.push(
    "  help [command]",
    "",
    "The database is the server's: DATABASE_URL (default sqlite:data/external-tool-access.sqlite); pending migrations are applied.",
    "Exit codes: 0 done, 1 the operation failed (not found, database unreachable, aborted), 2 bad arguments or input.",
  );
  return lines.join("\n") + "\n";
}

/** Runs one CLI invocation; resolves with the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const command = name === "help" && rest[0] ? COMMANDS[rest[0]] : undefined;
    const text = command ? `Usage: npm run admin -- ${command.usage}\n\n${command.summary}\n` : usage();
    (name === undefined ? io.stderr : io.stdout).write(text);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) return usageError(io, `unknown command "${name}"`);

  let values: CommandContext["values"];
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true }));
  } catch (error) {
    return usageError(io, (error as Error).message, command);
  }
  if (values.help) {
    io.stdout.write(`Usage: npm run admin -- ${command.usage}\n\n${command.summary}\n`);
    return EXIT_OK;
  }
  const [min, max] = command.positionals;
  if (positionals.length < min || positionals.length > max) {
    return usageError(io, positionals.length < min ? "missing argument" : `unexpected argument "${positionals[max]}"`, command);
  }
  return runCommand(command, values, positionals, io);
}

/** A well-formed invocation: the configuration, the runtime (database migrated), the command, the exit code. */
async function runCommand(command: Command, values: CommandContext["values"], positionals: string[], io: CliIo): Promise<number> {
  let config;
  try {
    config = loadConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const logger: Logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel, io.stderr);
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, { logger });
  } catch (error) {
    return fail(io, `Cannot open the database: ${(error as Error).message}`);
  }
  try {
    return await command.run({ values, positionals, services: runtime.services, dataSource: runtime.dataSource, io });
  } catch (error) {
    if (error instanceof UsageError) return usageError(io, error.message, command);
    if (error instanceof GraphQLError) {
      const code = String(error.extensions?.code ?? "");
      // The service refused the input (bad email, short password, out-of-range value): a usage problem.
      if (code === "BAD_USER_INPUT") return usageError(io, error.message, command);
      return fail(io, error.message);
    }
    return fail(io, `Failed: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    await runtime.stop().catch(() => undefined);
  }
}

function usageError(io: CliIo, message: string, command?: Command): number {
  io.stderr.write(`error: ${message}\n${command ? `Usage: npm run admin -- ${command.usage}\n` : `\n${usage()}`}`);
  return EXIT_USAGE;
}

function fail(io: CliIo, message: string): number {
  io.stderr.write(`${message}\n`);
  return EXIT_FAILED;
}

function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["true", "yes", "1", "on"].includes(value)) return true;
  if (["false", "no", "0", "off"].includes(value)) return false;
  throw new UsageError(`expected true or false, got "${raw}"`);
}

async function findUser(dataSource: DataSource, who: string): Promise<User | null> {
  const repository = dataSource.getRepository(User);
  if (/^[1-9]\d{0,15}$/.test(who)) return repository.findOneBy({ id: Number(who) });
  return repository.findOneBy({ email: who.trim().toLowerCase() });
}

async function readPassword(io: CliIo): Promise<string | null> {
  if (!io.stdin.isTTY) {
    const line = await readFirstLine(io.stdin);
    return line === "" ? null : line;
  }
  const first = await promptHidden("Password: ", io.stdin, io.stderr);
  if (first === null || first === "") return null;
  const second = await promptHidden("Repeat password: ", io.stdin, io.stderr);
  if (second !== first) throw new UsageError("the passwords do not match");
  return first;
}

function shortDate(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}

function describeSettings(settings: ExternalToolSettings): string {
  const expiration = Object.entries(EXPIRATIONS).find(([, value]) => value === settings.apiKeyExpiration)?.[0] ?? settings.apiKeyExpiration;
  return [
    `API keys enabled:        ${settings.apiKeysEnabled ? "yes" : "no"}`,
    `New key expiration:      ${expiration}`,
    `Session keys enabled:    ${settings.sessionKeysEnabled ? "yes" : "no"}`,
    `Expired-key retention:   ${settings.expiredKeyRetentionDays} day${settings.expiredKeyRetentionDays === 1 ? "" : "s"}`,
  ].join("\n") + "\n";
}
