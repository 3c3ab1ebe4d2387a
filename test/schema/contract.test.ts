import fs from "node:fs";
import path from "node:path";
import { buildSchema, DangerousChangeType, findBreakingChanges, findDangerousChanges } from "graphql";
import { emittedSchemaSdl, SCHEMA_FILE } from "../../scripts/emit-schema";

const CONTRACT_FILE = path.join(__dirname, "..", "..", "..", "shared", "api", "schema.graphql");

describe("GraphQL schema", () => {
  test("committed schema.graphql matches what the server emits (run `npm run schema` after changing a resolver)", async () => {
    expect(fs.readFileSync(SCHEMA_FILE, "utf8")).toBe(await emittedSchemaSdl());
  });

  test("emitted schema is a compatible superset of the contract: no breaking or dangerous change", async () => {
    const contract = buildSchema(fs.readFileSync(CONTRACT_FILE, "utf8"));
    const emitted = buildSchema(await emittedSchemaSdl());
    expect(findBreakingChanges(contract, emitted)).toEqual([]);
    // New optional arguments are welcome (the contract says so); any other dangerous change is not.
    expect(findDangerousChanges(contract, emitted).filter((change) => change.type !== DangerousChangeType.OPTIONAL_ARG_ADDED)).toEqual([]);
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
