// Generates docs/api.md, the signature reference, from what lib/index.ts exports and each export's TSDoc (first
// paragraph + @example), so the reference cannot drift from the code. Run: `npm run docs:api`.
// test/core/api-docs.test.ts regenerates it in memory and fails when docs/api.md is stale.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";

const ROOT = resolve(__dirname, "..");
/** Re-exported libraries: listed by name, documented upstream. */
const UPSTREAM: Record<string, string> = {
  tf: "TensorFlow.js (`@tensorflow/tfjs`), re-exported as is: https://js.tensorflow.org/api/latest/",
  aq: "arquero, re-exported as is: https://idl.uw.edu/arquero/api/",
};

interface Entry {
  name: string;
  kind: "function" | "class" | "value" | "type";
  call: string;
  summary: string;
  examples: string[];
  aliasOf?: string;
  /** Further overloads of a function. */
  alsoCalls?: string[];
  /** Fields of an interface (own and inherited), with their TSDoc. */
  members?: { name: string; optional: boolean; doc: string }[];
}

interface Section {
  title: string;
  prefix: string;
  entries: Entry[];
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();
/** TSDoc text as markdown: outside `code`, `<` and `>` are escaped so "<eos>" or "ids[<t]" are not read as HTML. */
const md = (s: string) =>
  s
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("");
const cell = (s: string) => md(s).replace(/\|/g, "\\|");

/** First paragraph of a TSDoc comment, on one line. */
function summaryOf(sym: ts.Symbol, checker: ts.TypeChecker): string {
  const text = ts.displayPartsToString(sym.getDocumentationComment(checker)).trim();
  return oneLine(text.split(/\n\s*\n/)[0] ?? "");
}

function examplesOf(sym: ts.Symbol, checker: ts.TypeChecker): string[] {
  return sym
    .getJsDocTags(checker)
    .filter((t) => t.name === "example")
    .map((t) =>
      ts
        .displayPartsToString(t.text)
        .replace(/^\s*\n/, "")
        .trimEnd(),
    )
    .filter((t) => t.length > 0);
}

function paramList(params: readonly ts.ParameterDeclaration[]): string {
  return params
    .map((p) => {
      const name = ts.isIdentifier(p.name)
        ? p.name.text
        : p.name.kind === ts.SyntaxKind.ObjectBindingPattern
          ? "inputs"
          : "values";
      return `${p.dotDotDotToken ? "..." : ""}${name}${p.questionToken || p.initializer ? "?" : ""}`;
    })
    .join(", ");
}

function describe(name: string, exported: ts.Symbol, checker: ts.TypeChecker): Entry {
  const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decls = sym.declarations ?? [];
  const d = decls[0];
  const summary = summaryOf(sym, checker);
  const examples = examplesOf(sym, checker);
  if (sym.flags & ts.SymbolFlags.Function) {
    // Overloads: show each overload's parameters, not the implementation's (often `...rest`).
    const fns = decls.filter(ts.isFunctionDeclaration);
    const overloads = fns.filter((x) => !x.body);
    const shown = overloads.length ? overloads : fns.slice(0, 1);
    const calls = shown.map((fn) => `${name}(${paramList(fn.parameters)})`);
    return { name, kind: "function", call: calls[0]!, alsoCalls: calls.slice(1), summary, examples };
  }
  if (sym.flags & ts.SymbolFlags.Class) {
    const ctor = (d as ts.ClassDeclaration).members?.find(ts.isConstructorDeclaration);
    return { name, kind: "class", call: `${name}(${ctor ? paramList(ctor.parameters) : ""})`, summary, examples };
  }
  if (sym.flags & ts.SymbolFlags.Variable) {
    const init = d && ts.isVariableDeclaration(d) ? d.initializer : undefined;
    const fn = init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : undefined;
    return {
      name,
      kind: fn ? "function" : "value",
      call: fn ? `${name}(${paramList(fn.parameters)})` : name,
      summary,
      examples,
    };
  }
  return { name, kind: "type", call: name, summary, examples, members: membersOf(sym, checker) };
}

/** The fields of an exported interface (inherited ones included), or undefined for other types. */
function membersOf(sym: ts.Symbol, checker: ts.TypeChecker): Entry["members"] {
  if (!(sym.flags & ts.SymbolFlags.Interface)) return undefined;
  const props = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym));
  const out = props.map((p) => ({
    name: p.getName() + (p.flags & ts.SymbolFlags.Method ? "()" : ""),
    optional: !!(p.flags & ts.SymbolFlags.Optional),
    doc: oneLine(ts.displayPartsToString(p.getDocumentationComment(checker))),
  }));
  return out.length ? out : undefined;
}

/** The exports of one module symbol, in declaration order, with same-symbol re-exports marked as aliases. */
function entriesOf(
  moduleSym: ts.Symbol,
  checker: ts.TypeChecker,
): { entries: Entry[]; namespaces: [string, ts.Symbol][] } {
  const entries: Entry[] = [];
  const namespaces: [string, ts.Symbol][] = [];
  const seen = new Map<ts.Symbol, string>();
  for (const exp of checker.getExportsOfModule(moduleSym)) {
    const name = exp.getName();
    const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    if (
      target.flags & ts.SymbolFlags.ValueModule &&
      !(target.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class))
    ) {
      namespaces.push([name, target]);
      continue;
    }
    const e = describe(name, exp, checker);
    const first = seen.get(target);
    if (first !== undefined && e.kind !== "type") e.aliasOf = first;
    else seen.set(target, name);
    entries.push(e);
  }
  return { entries, namespaces };
}

function program(): ts.Program {
  const configPath = join(ROOT, "tsconfig.json");
  const cfg = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, dirname(configPath));
  return ts.createProgram([join(ROOT, "lib/index.ts")], { ...parsed.options, noEmit: true });
}

/** Collect the public API of lib/index.ts: the top level, then one section per namespace. */
export function collectApi(): Section[] {
  const prog = program();
  const checker = prog.getTypeChecker();
  const src = prog.getSourceFile(join(ROOT, "lib/index.ts"));
  if (!src) throw new Error("scripts/api-docs: lib/index.ts not found in the program. Run from the repo root.");
  const mod = checker.getSymbolAtLocation(src);
  if (!mod) throw new Error("scripts/api-docs: lib/index.ts has no module symbol (no exports?).");
  const top = entriesOf(mod, checker);
  const sections: Section[] = [{ title: "Top level", prefix: "", entries: top.entries }];
  const visit = (name: string, sym: ts.Symbol) => {
    if (name in UPSTREAM) return void sections.push({ title: name, prefix: `${name}.`, entries: [] });
    const inner = entriesOf(sym, checker);
    sections.push({ title: name, prefix: `${name}.`, entries: inner.entries });
    for (const [sub, subSym] of inner.namespaces) visit(`${name}.${sub}`, subSym);
  };
  for (const [name, sym] of top.namespaces) visit(name, sym);
  return sections;
}

/** Render the sections as docs/api.md. */
export function renderApi(sections: Section[]): string {
  const values = sections.reduce((n, s) => n + s.entries.filter((e) => e.kind !== "type").length, 0);
  const types = sections.reduce((n, s) => n + s.entries.filter((e) => e.kind === "type").length, 0);
  const L: string[] = [
    "# API reference",
    "",
    "<!-- Generated by `npm run docs:api` (scripts/api-docs.ts) from lib/index.ts and the TSDoc of each export. Do not edit by hand. -->",
    "",
    'Everything `import { ... } from "cellrl"` gives, with the first paragraph of each export\'s TSDoc, its `@example`,',
    "and the fields of each exported interface (options objects list their defaults there). Parameters and fields marked",
    "`?` are optional. The guides in this folder explain the why; this page is the what.",
    "",
    `${values} values and ${types} types.`,
    "",
    sections.map((s) => `[${s.title}](#${s.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")})`).join(" · "),
    "",
  ];
  for (const s of sections) {
    L.push(`## ${s.title}`, "");
    if (s.prefix && s.title in UPSTREAM) {
      L.push(UPSTREAM[s.title]!, "");
      continue;
    }
    for (const e of s.entries.filter((x) => x.kind !== "type")) {
      L.push(`### \`${e.kind === "class" ? "new " : ""}${s.prefix}${e.call}\``, "");
      if (e.aliasOf) L.push(`The same ${e.kind} as \`${s.prefix}${e.aliasOf}\`.`, "");
      else {
        if (e.alsoCalls?.length) L.push(`Also: ${e.alsoCalls.map((c) => `\`${s.prefix}${c}\``).join(", ")}.`, "");
        if (e.summary) L.push(md(e.summary), "");
        for (const ex of e.examples) L.push("```ts", ex, "```", "");
      }
    }
    const ts_ = s.entries.filter((x) => x.kind === "type");
    if (ts_.length) {
      L.push(
        `### Types in ${s.title === "Top level" ? "the top level" : s.title}`,
        "",
        "| type | what it is |",
        "|---|---|",
      );
      for (const e of ts_) L.push(`| \`${s.prefix}${e.name}\` | ${cell(e.summary)} |`);
      L.push("");
      for (const e of ts_.filter((x) => x.members)) {
        L.push(`#### \`${s.prefix}${e.name}\``, "");
        if (e.summary) L.push(md(e.summary), "");
        L.push("| field | what |", "|---|---|");
        for (const m of e.members!) L.push(`| \`${m.name}${m.optional ? "?" : ""}\` | ${cell(m.doc)} |`);
        L.push("");
      }
    }
  }
  return L.join("\n");
}

/** The text docs/api.md should have. */
export function generateApiDocs(): string {
  return renderApi(collectApi());
}

export const API_DOCS_PATH = join(ROOT, "docs/api.md");

if (require.main === module) {
  const text = generateApiDocs();
  const before = (() => {
    try {
      return readFileSync(API_DOCS_PATH, "utf8");
    } catch {
      return "";
    }
  })();
  const tmp = `${API_DOCS_PATH}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, API_DOCS_PATH);
  console.log(`docs/api.md ${before === text ? "unchanged" : "written"} (${text.split("\n").length} lines)`);
}
