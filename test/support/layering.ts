import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** An import from one top-level part of src/ (a folder, or a loose file such as main.ts) to another. */
export interface FolderEdge {
  from: string;
  to: string;
  /** The importing file, relative to src/. */
  file: string;
}

/** Every relative import, export-from, require() and import() between different top-level parts of `srcDir`. */
export function folderEdges(srcDir: string): FolderEdge[] {
  const edges: FolderEdge[] = [];
  for (const file of typeScriptFiles(srcDir)) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const from = partOf(srcDir, file);
      const to = partOf(srcDir, path.resolve(path.dirname(file), fileName));
      if (from !== to) edges.push({ from, to, file: path.relative(srcDir, file) });
    }
  }
  return edges;
}

/**
 * What breaks the layering: an edge to a part on the same or a higher layer (which is also how
 * any cycle shows), a part no layer names, and each cycle between parts, spelled out.
 * `layers`: lowest first; a part may import only from parts on lower layers.
 */
export function layeringViolations(edges: readonly FolderEdge[], layers: ReadonlyArray<readonly string[]>): string[] {
  const layerOf = new Map(layers.flatMap((parts, index) => parts.map((part) => [part, index] as const)));
  const problems = new Set<string>();
  for (const { from, to, file } of edges) {
    for (const part of [from, to]) if (!layerOf.has(part)) problems.add(`${part} is on no layer`);
    if (layerOf.has(from) && layerOf.has(to) && layerOf.get(to)! >= layerOf.get(from)!) problems.add(`${from} -> ${to} points up or sideways (${file})`);
  }
  for (const cycle of cycles(edges)) problems.add(`import cycle: ${cycle.join(" -> ")}`);
  return [...problems];
}

/** One cycle per strongly connected group of parts, found by depth-first search. */
export function cycles(edges: readonly FolderEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (part: string, trail: string[]): void => {
    const seen = trail.indexOf(part);
    if (seen >= 0) return void found.push([...trail.slice(seen), part]);
    if (done.has(part)) return;
    for (const to of next.get(part) ?? []) visit(to, [...trail, part]);
    done.add(part);
  };
  for (const part of next.keys()) visit(part, []);
  return found;
}

function partOf(srcDir: string, file: string): string {
  const [first, ...rest] = path.relative(srcDir, file).split(path.sep);
  return rest.length > 0 ? first : first.replace(/\.ts$/, "");
}

function typeScriptFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}
