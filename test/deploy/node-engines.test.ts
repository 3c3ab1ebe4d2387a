/**
 * package.json's `engines.node` is a promise: every Node version it accepts runs every installed
 * package. npm only warns when a dependency wants a newer Node; this makes that a failure.
 */
import fs from "node:fs";
import path from "node:path";
import semver from "semver";

const ROOT = path.resolve(__dirname, "..", "..");
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

/** Packages of the lockfile with the Node range they declare (old packages may use an array form). */
function declaredNodeRanges(): Array<{ name: string; range: string }> {
  const packages: Record<string, LockedPackage> = readJson("package-lock.json").packages;
  return Object.entries(packages)
    .filter(([location]) => location !== "")
    .flatMap(([location, entry]) => {
      const engines = entry.engines;
      const range = Array.isArray(engines) ? engines.find((e) => e.startsWith("node "))?.slice(5) : engines?.node;
      return range ? [{ name: `${location.replace(/^.*node_modules\//, "")}@${entry.version}`, range }] : [];
    });
}

/** Every declared range that does not accept all of `projectRange` (a subset check, not just its minimum). */
function rangesNarrowerThan(projectRange: string, declared: Array<{ name: string; range: string }>): string[] {
  return declared.filter(({ range }) => !semver.validRange(range) || !semver.subset(projectRange, range)).map(({ name, range }) => `${name} needs node ${range}`);
}

describe("supported Node versions", () => {
  const projectRange: string = readJson("package.json").engines.node;

  test("package.json and package-lock.json declare the same engines.node", () => {
    expect(semver.validRange(projectRange)).not.toBeNull();
    expect(readJson("package-lock.json").packages[""].engines?.node).toBe(projectRange);
  });

  test("every locked package runs on every Node version engines.node accepts", () => {
    const declared = declaredNodeRanges();
    expect(declared.length).toBeGreaterThan(10);
    expect(rangesNarrowerThan(projectRange, declared)).toEqual([]);
  });

  test("the check catches a dependency that needs a newer Node than the project promises", () => {
    // @whatwg-node/promise-helpers 2.x (through @graphql-tools/utils >= 12.0.3) needs Node 22.15:
    // package.json's overrides keep the 1.x line, which runs on Node 20.
    const declared = [...declaredNodeRanges(), { name: "@whatwg-node/promise-helpers@2.0.2", range: ">=22.15.0" }];
    expect(rangesNarrowerThan(projectRange, declared)).toEqual(["@whatwg-node/promise-helpers@2.0.2 needs node >=22.15.0"]);
    expect(rangesNarrowerThan(">=20", declaredNodeRanges())).not.toEqual([]);
  });
});
