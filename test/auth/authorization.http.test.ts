import {
  getNamedType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLScalarType,
  type GraphQLSchema,
  isLeafType,
} from "graphql";
import { getMetadataStorage } from "type-graphql";
import { ADMIN } from "../../src/auth/auth-checker";
import { PERMISSION_DENIED_MESSAGE } from "../../src/errors";
import { createSchema } from "../../src/graphql/schema";
import { basic, type Credentials, type GraphQLResult, startTestApp, type TestApp, type TestUser, viaKey } from "../support/app";

/**
 * Authorization for every operation the schema defines, read from the schema the server builds
 * and from the resolvers' @Authorized metadata: an operation added tomorrow is covered without
 * touching this file.
 */

/**
 * Mutations a read-only key may run; otherwise a read-only key reads, nothing else. login acts on
 * the email and password in its arguments, for no one until they are proven, whatever key the
 * request carries; logout ends only the cookie session the request carries, so with a key it
 * changes nothing.
 */
const READ_ONLY_ALLOWED_MUTATIONS: readonly string[] = ["login", "logout"];

/** Operations only a cookie session may run: refused (403) to a password, which has no session. */
const NEEDS_COOKIE_SESSION: readonly string[] = ["generateSessionKey"];

/** Operations that check credentials given as arguments: the generated sample ones are refused (401). */
const CHECKS_ARGUMENT_CREDENTIALS: readonly string[] = ["login"];

/** Sample values for the scalars arguments can have; a new scalar fails loudly until it gets one. */
const SCALAR_SAMPLES: Record<string, unknown> = {
  String: "x",
  ID: "1",
  Int: 1,
  Float: 1,
  Boolean: true,
  DateTimeISO: "2026-01-01T00:00:00.000Z",
};

type Operation = { kind: "query" | "mutation"; name: string; roles: readonly string[] | undefined; field: GraphQLField<unknown, unknown> };

/** Every query and mutation of the schema, with the roles its resolver's @Authorized asks for (undefined: none). */
function operationsOf(schema: GraphQLSchema): Operation[] {
  const metadata = getMetadataStorage();
  const operations: Operation[] = [];
  for (const [kind, type, handlers] of [
    ["query", schema.getQueryType(), metadata.queries],
    ["mutation", schema.getMutationType(), metadata.mutations],
  ] as const) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const handler = handlers.find((h) => h.schemaName === field.name);
      if (!handler) throw new Error(`no resolver metadata for ${kind} ${field.name}`);
      const authorized = metadata.authorizedFields.find((a) => a.target === handler.target && a.fieldName === handler.methodName);
      operations.push({ kind, name: field.name, roles: authorized?.roles, field });
    }
  }
  return operations;
}

/** The smallest value the type accepts: what a caller must send for the request to pass validation. */
function sampleValue(type: GraphQLInputType): unknown {
  if (type instanceof GraphQLNonNull) return sampleValue(type.ofType);
  if (type instanceof GraphQLList) return [sampleValue(type.ofType)];
  if (type instanceof GraphQLEnumType) return type.getValues()[0].name;
  if (type instanceof GraphQLScalarType) {
    if (!(type.name in SCALAR_SAMPLES)) throw new Error(`no sample value for scalar ${type.name}: add one to SCALAR_SAMPLES`);
    return SCALAR_SAMPLES[type.name];
  }
  const input = type as GraphQLInputObjectType;
  const value: Record<string, unknown> = {};
  for (const field of Object.values(input.getFields())) {
    if (field.type instanceof GraphQLNonNull && field.defaultValue === undefined) value[field.name] = sampleValue(field.type);
  }
  return value;
}

/** The operation as a document with variables for its required arguments, selecting only __typename. */
function requestFor(operation: Operation): { query: string; variables: Record<string, unknown> } {
  const required = operation.field.args.filter((arg: GraphQLArgument) => arg.type instanceof GraphQLNonNull && arg.defaultValue === undefined);
  const variables = Object.fromEntries(required.map((arg) => [arg.name, sampleValue(arg.type)]));
  const declarations = required.length ? `(${required.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ")})` : "";
  const passed = required.length ? `(${required.map((arg) => `${arg.name}: $${arg.name}`).join(", ")})` : "";
  const selection = isLeafType(getNamedType(operation.field.type)) ? "" : " { __typename }";
  return { query: `${operation.kind} ${declarations} { ${operation.name}${passed}${selection} }`, variables };
}

/**
 * A refusal by the authorization rules: HTTP 403, FORBIDDEN, LabKey's message, no data. The
 * server does not yet say which rule refused; once errors carry extensions.reason, it is checked
 * against `reason` here.
 */
function expectForbidden(result: GraphQLResult, reason: "READ_ONLY_KEY" | "ADMIN_REQUIRED", label: string): void {
  const error = result.body.errors?.[0];
  expect({ label, status: result.status, code: error?.extensions?.code, message: error?.message, errors: result.body.errors?.length }).toEqual({
    label,
    status: 403,
    code: "FORBIDDEN",
    message: PERMISSION_DENIED_MESSAGE,
    errors: 1,
  });
  if (error?.extensions?.reason !== undefined) expect({ label, reason: error.extensions.reason }).toEqual({ label, reason });
  expect(result.body.data ?? null).toBeNull();
}

describe("authorization of every operation in the schema", () => {
  let app: TestApp;
  let operations: Operation[];
  let admin: TestUser;
  let alice: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    // Only the schema's shape is read here: the login and throttle collaborators are never called.
    operations = operationsOf(await createSchema(app.services, {} as never));
  });
  beforeEach(async () => {
    await app.reset();
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  afterAll(async () => {
    await app.close();
  });

  const mutations = () => operations.filter((op) => op.kind === "mutation");
  const adminOnly = () => operations.filter((op) => op.roles?.includes(ADMIN));
  const run = (operation: Operation, credentials: Credentials) => {
    const { query, variables } = requestFor(operation);
    return app.graphql(query, variables, credentials);
  };
  const auditEventCount = async () => Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM audit_events"))[0].n);

  test("the operations are read from the schema and the resolver metadata", () => {
    const names = (list: Operation[]) => list.map((op) => op.name);
    // Spot checks that the reading works; the lists themselves come from the schema.
    expect(names(mutations())).toEqual(expect.arrayContaining(["generateApiKey", "deleteMyApiKey", "revokeAllApiKeys", "createUser", "updateExternalToolSettings"]));
    expect(names(adminOnly())).toEqual(expect.arrayContaining(["apiKeys", "auditEvents", "revokeApiKeys", "revokeAllApiKeys", "createUser", "setUserActive"]));
    expect(names(adminOnly())).not.toContain("generateApiKey");
    expect(names(operations)).toEqual(expect.arrayContaining(["me", "externalToolSettings"]));
    for (const name of READ_ONLY_ALLOWED_MUTATIONS) expect(names(mutations())).toContain(name);
  });

  test("every operation's generated arguments pass validation and authorization for an admin signed in with a password", async () => {
    // The control for the refusals below: with full rights nothing is refused as forbidden or
    // invalid, so a 403 below comes from the key's limits, not from the request's shape.
    for (const operation of operations) {
      const result = await run(operation, basic(admin.email, admin.password));
      const error = result.body.errors?.[0];
      // An error with a path was raised while running the field (e.g. NOT_FOUND for the sample
      // id): the request got past validation, variable coercion and the authorization rules.
      const outcome = error ? { executed: error.path?.[0] === operation.name, code: error.extensions?.code } : { executed: true, code: "none" };
      const expected = CHECKS_ARGUMENT_CREDENTIALS.includes(operation.name) ? "UNAUTHENTICATED" : NEEDS_COOKIE_SESSION.includes(operation.name) ? "FORBIDDEN" : expect.not.stringMatching(/^(FORBIDDEN|UNAUTHENTICATED|INTERNAL_SERVER_ERROR)$/);
      expect({ operation: operation.name, ...outcome }).toEqual({ operation: operation.name, executed: true, code: expected });
    }
  });

  for (const owner of ["a user", "an admin"] as const) {
    test(`read-only key of ${owner}: every mutation outside the allowlist is refused with 403, nothing changes`, async () => {
      const user = owner === "an admin" ? admin : alice;
      const { key } = await app.generateKey(user, { readOnly: true });
      const eventsBefore = await auditEventCount();
      const refused = mutations().filter((op) => !READ_ONLY_ALLOWED_MUTATIONS.includes(op.name));
      expect(refused.length).toBeGreaterThan(0);
      for (const operation of refused) expectForbidden(await run(operation, viaKey(key)), "READ_ONLY_KEY", operation.name);
      expect(await auditEventCount()).toBe(eventsBefore);
      // The key still runs every query its owner may run.
      const readable = operations.filter((op) => op.kind === "query" && (owner === "an admin" || !op.roles?.includes(ADMIN)));
      for (const operation of readable) {
        const result = await run(operation, viaKey(key));
        expect({ operation: operation.name, status: result.status, errors: result.body.errors }).toEqual({ operation: operation.name, status: 200, errors: undefined });
      }
    });
  }

  test("non-admin: every admin-only query and mutation is refused with 403, by key and by password, nothing changes", async () => {
    const { key } = await app.generateKey(alice);
    const eventsBefore = await auditEventCount();
    expect(adminOnly().length).toBeGreaterThan(0);
    for (const operation of adminOnly()) {
      expectForbidden(await run(operation, viaKey(key)), "ADMIN_REQUIRED", `${operation.name} by key`);
      expectForbidden(await run(operation, basic(alice.email, alice.password)), "ADMIN_REQUIRED", `${operation.name} by password`);
    }
    expect(await auditEventCount()).toBe(eventsBefore);
  });

  test("read-only key of a non-admin on admin-only queries: 403 as well", async () => {
    const { key } = await app.generateKey(alice, { readOnly: true });
    const queries = adminOnly().filter((op) => op.kind === "query");
    expect(queries.length).toBeGreaterThan(0);
    for (const operation of queries) expectForbidden(await run(operation, viaKey(key)), "ADMIN_REQUIRED", operation.name);
  });
});
