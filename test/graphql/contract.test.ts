import fs from "node:fs";
import path from "node:path";
import { buildSchema, DangerousChangeType, findBreakingChanges, findDangerousChanges, Kind, parse } from "graphql";
import { emittedSchemaSdl, SCHEMA_FILE } from "../../scripts/emit-schema";

const CONTRACT_FILE = path.join(__dirname, "..", "..", "..", "shared", "api", "schema.graphql");
const ADMIN_EXTENSION_FILE = path.join(__dirname, "..", "..", "..", "shared", "api", "admin.graphql");

/** "Type.field" of every input field admin.graphql adds with `extend input`: agreed additions, not drift. */
function agreedInputFields(): Set<string> {
  const fields = new Set<string>();
  for (const definition of parse(fs.readFileSync(ADMIN_EXTENSION_FILE, "utf8")).definitions) {
    if (definition.kind === Kind.INPUT_OBJECT_TYPE_EXTENSION) for (const field of definition.fields ?? []) fields.add(`${definition.name.value}.${field.name.value}`);
  }
  return fields;
}

describe("GraphQL schema", () => {
  test("committed schema.graphql matches what the server emits (run `npm run schema` after changing a resolver)", async () => {
    expect(fs.readFileSync(SCHEMA_FILE, "utf8")).toBe(await emittedSchemaSdl());
  });

  test("emitted schema is a compatible superset of the contract: no breaking or dangerous change", async () => {
    const contract = buildSchema(fs.readFileSync(CONTRACT_FILE, "utf8"));
    const emitted = buildSchema(await emittedSchemaSdl());
    expect(findBreakingChanges(contract, emitted)).toEqual([]);
    // New optional arguments are welcome (the contract says so), and so are the input fields
    // admin.graphql adds with `extend input`; any other dangerous change is not.
    const agreed = agreedInputFields();
    const unagreed = findDangerousChanges(contract, emitted).filter((change) => {
      if (change.type === DangerousChangeType.OPTIONAL_ARG_ADDED) return false;
      const added = /^An optional field (\w+) on input type (\w+) was added\.$/.exec(change.description);
      return !(change.type === DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED && added && agreed.has(`${added[2]}.${added[1]}`));
    });
    expect(unagreed).toEqual([]);
  });

  test("emitted schema is a compatible superset of the contract plus admin.graphql (audit, rotation, bulk revoke, retention)", async () => {
    const contract = buildSchema(fs.readFileSync(CONTRACT_FILE, "utf8") + "\n" + fs.readFileSync(ADMIN_EXTENSION_FILE, "utf8"));
    expect(contract.getQueryType()!.getFields().auditEvents).toBeDefined();
    const emitted = buildSchema(await emittedSchemaSdl());
    expect(findBreakingChanges(contract, emitted)).toEqual([]);
    expect(findDangerousChanges(contract, emitted).filter((change) => change.type !== DangerousChangeType.OPTIONAL_ARG_ADDED)).toEqual([]);
    // admin.graphql's prose: generateApiKey gains an optional idempotencyKey.
    const generate = emitted.getMutationType()!.getFields().generateApiKey;
    expect(generate.args.find((arg) => arg.name === "idempotencyKey")?.type.toString()).toBe("String");
  });

  test("the check itself catches a missing field", async () => {
    const contract = buildSchema(fs.readFileSync(CONTRACT_FILE, "utf8"));
    const weakened = buildSchema((await emittedSchemaSdl()).replace(/^\s*expired: Boolean!\n/m, "\n"));
    expect(findBreakingChanges(contract, weakened).map((change) => change.description)).toContain("ApiKey.expired was removed.");
  });

  test("no field exposes a secret or its hash", async () => {
    const sdl = await emittedSchemaSdl();
    expect(sdl).not.toMatch(/keyHash|key_hash|passwordHash|password_hash/);
  });
});
