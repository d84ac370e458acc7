/**
 * The layers of src/ (docs/architecture.md): every import points down, never up or sideways.
 *   lib <- proto <- zone <- health <- pools <- server <- app, agent <- cli
 * app and agent stand side by side: neither imports the other, and agent imports only health and lib.
 * The test reads the import statements of every file, so the layout stays as documented.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

/** Rank of each layer: a file may import only from layers of lower rank, or its own. */
const RANK: Record<string, number> = {
  lib: 0,
  proto: 1,
  dnssec: 1.5,
  zone: 2,
  health: 3,
  pools: 4,
  server: 5,
  app: 6,
  agent: 6,
  cli: 7,
};
/** Pairs of layers that must not meet although their ranks would allow it: the agent runs beside a web or mail server and needs only health reports and the leaves. */
const FORBIDDEN: [string, string][] = [
  ["agent", "server"],
  ["agent", "pools"],
  ["agent", "zone"],
  ["agent", "proto"],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const layerOf = (file: string) => relative(SRC, file).split("/")[0]!;

/** Relative specifiers of static and dynamic imports and re-exports. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\s*\(\s*"([^"]+)"\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*"([^"]+)"/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith("."));
}

function violations(): string[] {
  const out: string[] = [];
  for (const file of files(SRC)) {
    const from = layerOf(file);
    if (RANK[from] === undefined) {
      out.push(`${relative(SRC, file)}: folder '${from}' is not a layer`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec);
      const to = layerOf(target);
      const where = `${relative(SRC, file)} imports ${relative(SRC, target)}`;
      if (RANK[to] === undefined) out.push(`${where}: outside the layers`);
      else if (to !== from && RANK[to]! >= RANK[from]!) out.push(`${where}: ${from} may not import ${to}`);
      else if (FORBIDDEN.some(([a, b]) => a === from && b === to))
        out.push(`${where}: ${from} never imports ${to}`);
    }
  }
  return out;
}

describe("layers", () => {
  it("reads imports of every form", () => {
    const text = `import { a } from "./a.js";\nimport type { B } from "../b/b.js";\nexport { c } from "./c.js";\nimport "./side.js";\nconst d = await import("./d.js");\nimport x from "node:fs";`;
    expect(importsOf(text)).toEqual(["./a.js", "../b/b.js", "./c.js", "./d.js", "./side.js"]);
  });

  it("every import under src/ points down the layers", () => {
    expect(violations()).toEqual([]);
  });

  it("bin.ts is the only module that runs the program", () => {
    const starters = files(SRC).filter((f) => /\.parseAsync\(process\.argv\)/.test(readFileSync(f, "utf8")));
    expect(starters.map((f) => relative(SRC, f))).toEqual(["cli/bin.ts"]);
  });
});
