// The public surface of `import ... from "cellrl"`: lib/index.ts plus one namespace per folder (model, data, ...).
// It stays small (what a notebook user calls; helpers live in internal modules that tests and the CLI import by path),
// and every name means one thing: the same name in two namespaces must be the same object.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import * as cellrl from "../../lib/index.js";

const ROOT = path.join(__dirname, "..", "..");
const INDEX = path.join(ROOT, "lib", "index.ts");

/**
 * At most this many public values (functions, classes, constants), namespaces included, tf and aq excluded. 0.2.0 cut
 * the API to 206 under a bound of 220; 0.3.0 adds the 2026 objectives' verbs and views (rollout correction, dynamic
 * sampling, OPD, mismatch / film-strip / FlowRL / GKD views, llama.cpp, GGUF), so the bound is 240. Variants still go in
 * registries, not exports.
 */
const MAX_VALUES = 240;

/**
 * Names that may appear in two places with different meanings, each with the reason. Keep it empty: rename one of
 * the two, or make one internal, instead of adding here.
 */
const ALLOWED_DUPLICATES: Record<string, string> = {};

/** The folder namespaces (`export * as model from "./model/index.js"`); tf and aq are re-exported libraries. */
function namespaces(): string[] {
  const src = fs.readFileSync(INDEX, "utf8");
  return [...src.matchAll(/^export \* as (\w+) from "\.\/[\w-]+\/index\.js";/gm)].map((m) => m[1]);
}

/** Every public value as [namespace or "top", name, value]. */
function publicValues(): [string, string, unknown][] {
  const ns = new Set(namespaces());
  const all = cellrl as unknown as Record<string, unknown>;
  const out: [string, string, unknown][] = [];
  for (const [k, v] of Object.entries(all)) {
    if (k === "tf" || k === "aq" || k === "default") continue;
    if (!ns.has(k)) out.push(["top", k, v]);
    else for (const [n, x] of Object.entries(v as object)) if (n !== "default") out.push([k, n, x]);
  }
  return out;
}

test("the public API has at most 220 values, counted per namespace", () => {
  const values = publicValues();
  const per: Record<string, number> = {};
  for (const [ns] of values) per[ns] = (per[ns] ?? 0) + 1;
  console.log(
    `public values: ${values.length} (${Object.entries(per)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")})`,
  );
  for (const ns of namespaces()) assert.ok(per[ns] > 0, `namespace ${ns} exports nothing`);
  assert.ok(
    values.length <= MAX_VALUES,
    `the public API has ${values.length} values (limit ${MAX_VALUES}). Make helpers internal (tests and the CLI import them by path) before adding more.`,
  );
});

test("no two public values share a name unless they are the same object", () => {
  const byName = new Map<string, [string, unknown][]>();
  for (const [ns, name, v] of publicValues()) {
    if (!byName.has(name)) byName.set(name, []);
    byName.get(name)!.push([ns, v]);
  }
  const clashes: string[] = [];
  for (const [name, where] of byName) {
    if (where.length < 2 || where.every(([, v]) => v === where[0][1]) || name in ALLOWED_DUPLICATES) continue;
    clashes.push(`${name}: ${where.map(([ns]) => (ns === "top" ? name : `${ns}.${name}`)).join(", ")}`);
  }
  assert.deepEqual(clashes, [], "one name, several meanings: rename one or make it internal");
  for (const name of Object.keys(ALLOWED_DUPLICATES))
    assert.ok((byName.get(name)?.length ?? 0) > 1, `allow-list entry ${name} is no longer needed`);
});

test("no two public types share a name unless they are the same declaration", () => {
  const program = ts.createProgram([INDEX], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
  });
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const root = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  const ns = new Set(namespaces());
  const byName = new Map<string, [string, ts.Declaration | undefined][]>();
  const add = (where: string, s: ts.Symbol) => {
    const r = resolve(s);
    if (!(r.flags & ts.SymbolFlags.Type) || r.flags & ts.SymbolFlags.Value) return; // values are checked above
    if (!byName.has(s.name)) byName.set(s.name, []);
    byName.get(s.name)!.push([where, r.declarations?.[0]]);
  };
  let types = 0;
  for (const s of checker.getExportsOfModule(root)) {
    if (s.name === "tf" || s.name === "aq") continue;
    if (!ns.has(s.name)) (add("top", s), types++);
    else for (const t of checker.getExportsOfModule(resolve(s))) (add(s.name, t), types++);
  }
  const clashes: string[] = [];
  for (const [name, where] of byName) {
    if (where.length < 2 || where.every(([, d]) => d === where[0][1]) || name in ALLOWED_DUPLICATES) continue;
    clashes.push(`${name}: ${where.map(([w]) => (w === "top" ? name : `${w}.${name}`)).join(", ")}`);
  }
  console.log(`public names incl. types: ${types}`);
  assert.deepEqual(clashes, [], "one type name, several declarations: rename one or stop exporting it");
});
