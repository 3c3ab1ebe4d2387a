import path from "node:path";
import { cycles, type FolderEdge, folderEdges, layeringViolations } from "./support/layering";

/**
 * The folders of src/, lowest first (docs/architecture.md): a folder imports only from folders on
 * lower layers, so data flows one way (socket -> credentials -> identity -> resolver -> service ->
 * database) and no two folders import each other.
 */
const LAYERS = [
  ["config", "errors"],
  ["observability", "entities", "migrations"],
  ["db"],
  ["keys"],
  ["services"],
  ["auth"],
  ["resolvers"],
  ["graphql"],
  ["http"],
  ["runtime"],
  ["main", "cli"],
] as const;

const SRC = path.join(__dirname, "..", "src");

describe("layering of src/", () => {
  test("every import between folders points down the layers; no cycle", () => {
    const edges = folderEdges(SRC);
    expect(edges.length).toBeGreaterThan(20); // the scanner sees the imports
    expect(layeringViolations(edges, LAYERS)).toEqual([]);
  });

  test("the check catches an upward import, a cycle and a folder on no layer", () => {
    const edge = (from: string, to: string): FolderEdge => ({ from, to, file: `${from}/x.ts` });
    const layers = [["low"], ["mid"], ["high"]];
    expect(layeringViolations([edge("high", "mid"), edge("mid", "low")], layers)).toEqual([]);
    expect(layeringViolations([edge("low", "high")], layers)).toEqual(["low -> high points up or sideways (low/x.ts)"]);
    expect(layeringViolations([edge("mid", "stray")], layers)).toEqual(["stray is on no layer"]);
    expect(layeringViolations([edge("high", "mid"), edge("mid", "high")], layers)).toEqual([
      "mid -> high points up or sideways (mid/x.ts)",
      "import cycle: high -> mid -> high",
    ]);
    expect(cycles([edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("c", "d")])).toEqual([["a", "b", "c", "a"]]);
  });
});
