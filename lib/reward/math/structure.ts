// The shape of an answer: a single expression, a tuple/interval, a set or list of answers, a union of intervals,
// a matrix, an equation, or plain text. Comparison (equal.ts) walks two of these side by side.
import { MathSyntaxError, tokenize, type Token } from "./lexer.js";
import { parseExpr, type Expr } from "./parse.js";

/** Parsed structure of an answer. */
export type Answer =
  | { t: "expr"; e: Expr; pct: boolean; assign?: Expr }
  | { t: "seq"; open: string; close: string; items: Answer[] }
  | { t: "set"; items: Answer[]; pm?: boolean; bare?: boolean }
  | { t: "union"; items: Answer[] }
  | { t: "matrix"; rows: Answer[][] }
  | { t: "eq"; rel: string; lhs: Expr; rhs: Expr; right?: Answer }
  | { t: "ratio"; items: Answer[] }
  | { t: "text"; s: string };

const OPEN = new Set(["(", "[", "{", "\\{"]);
const CLOSE = new Set([")", "]", "}", "\\}"]);
const RELS = new Set(["=", "<", ">", "le", "ge", "ne"]);

function isOp(t: Token | undefined, v: string): boolean {
  return t !== undefined && t.k === "op" && t.v === v;
}

// Split at top-level tokens for which `at` is true (depth counts (, [, {, \{ against any closer, so (3,4] works).
function split(toks: Token[], at: (t: Token) => boolean): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  let abs = false;
  for (const t of toks) {
    if (t.k === "op" && OPEN.has(t.v)) depth++;
    else if (t.k === "op" && CLOSE.has(t.v)) depth--;
    else if (t.k === "cmd" && (t.v === "lfloor" || t.v === "lceil" || t.v === "begin")) depth++;
    else if (t.k === "cmd" && (t.v === "rfloor" || t.v === "rceil" || t.v === "end")) depth--;
    else if (isOp(t, "|")) abs = !abs;
    if (depth === 0 && !abs && at(t)) parts.push([]);
    else parts[parts.length - 1].push(t);
  }
  return parts;
}

// Index of the closer matching the opener at 0, or -1.
function matchClose(toks: Token[]): number {
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k === "op" && OPEN.has(t.v)) depth++;
    else if (t.k === "op" && CLOSE.has(t.v) && --depth === 0) return i;
  }
  return -1;
}

function envName(toks: Token[], from: number): { name: string; end: number } {
  if (!isOp(toks[from], "{")) throw new MathSyntaxError("bad \\begin");
  let name = "";
  let i = from + 1;
  while (i < toks.length && !isOp(toks[i], "}")) name += toks[i++].v;
  return { name, end: i + 1 };
}

function matrix(toks: Token[]): Answer {
  const { name, end } = envName(toks, 1);
  if (!/^[pbvBV]?matrix|array$/.test(name)) throw new MathSyntaxError(`environment ${name}`);
  let i = end;
  if (name === "array" && isOp(toks[i], "{")) i = envName(toks, i).end; // column spec
  const endAt = toks.findIndex((t, k) => k >= i && t.k === "cmd" && t.v === "end");
  if (endAt < 0 || envName(toks, endAt + 1).end !== toks.length)
    throw new MathSyntaxError("matrix must be the whole answer");
  const body = toks.slice(i, endAt);
  const rows = split(body, (t) => isOp(t, "\\\\")).filter((r) => r.length > 0);
  return { t: "matrix", rows: rows.map((r) => split(r, (t) => isOp(t, "&")).map((cell) => build(cell))) };
}

// Index after the "\end{...}" that closes the "\begin" at `i`, or -1.
function envClose(toks: Token[], i: number): number {
  let depth = 0;
  for (let k = i; k < toks.length; k++) {
    const t = toks[k];
    if (t.k === "cmd" && t.v === "begin") depth++;
    else if (t.k === "cmd" && t.v === "end" && --depth === 0) return envName(toks, k + 1).end;
  }
  return -1;
}

type Cells = Answer[][];

function cellsOf(a: Answer): Cells | null {
  return a.t === "matrix" && a.rows.every((r) => r.every((c) => c.t === "expr")) ? a.rows : null;
}

function exprOf(a: Answer): Expr {
  return (a as Answer & { t: "expr" }).e;
}

function cell(e: Expr): Answer {
  return { t: "expr", e, pct: false };
}

function matSum(a: Cells, b: Cells, minus: boolean): Cells {
  if (a.length !== b.length || a.some((r, i) => r.length !== b[i].length))
    throw new MathSyntaxError("matrix sizes differ");
  return a.map((r, i) =>
    r.map((c, j) => cell({ t: "add", args: [exprOf(c), minus ? { t: "neg", a: exprOf(b[i][j]) } : exprOf(b[i][j])] })),
  );
}

function matProduct(a: Cells, b: Cells): Cells {
  const n = b.length;
  if (a.some((r) => r.length !== n) || n === 0) throw new MathSyntaxError("matrix sizes do not multiply");
  const p = b[0].length;
  return a.map((r) =>
    Array.from({ length: p }, (_, j) =>
      cell({ t: "add", args: r.map((c, k) => ({ t: "mul", args: [exprOf(c), exprOf(b[k][j])] }) as Expr) }),
    ),
  );
}

// "A + B", "A - B", "A B", "A \cdot B" of written-out matrices: the resulting matrix (products before sums).
function matrixArithmetic(toks: Token[]): Answer | null {
  if (!(toks[0].k === "cmd" && toks[0].v === "begin")) return null;
  const terms: { sign: boolean; factors: Cells[] }[] = [{ sign: false, factors: [] }];
  let i = 0;
  while (i < toks.length) {
    if (!(toks[i].k === "cmd" && toks[i].v === "begin")) return null;
    const end = envClose(toks, i);
    if (end < 0) return null;
    const m = cellsOf(matrix(toks.slice(i, end)));
    if (!m) return null;
    terms[terms.length - 1].factors.push(m);
    i = end;
    if (i >= toks.length) break;
    const t = toks[i];
    if (isOp(t, "+") || isOp(t, "-")) {
      terms.push({ sign: t.v === "-", factors: [] });
      i++;
    } else if (isOp(t, "*") || (t.k === "cmd" && (t.v === "cdot" || t.v === "times"))) i++;
  }
  if (terms.length === 1 && terms[0].factors.length === 1) return null;
  let acc: Cells | null = null;
  for (const term of terms) {
    if (term.factors.length === 0) return null;
    const prod = term.factors.reduce((x, y) => matProduct(x, y));
    acc =
      acc === null
        ? term.sign
          ? matSum(
              prod.map((r) => r.map(() => cell({ t: "num", v: "0" }))),
              prod,
              true,
            )
          : prod
        : matSum(acc, prod, term.sign);
  }
  return { t: "matrix", rows: acc as Cells };
}

// "p=5, q=2; p=7, q=2": named values whose names repeat in a cycle are solutions, one tuple each: {(5,2), (7,2)}.
function namedTuples(items: Answer[]): Answer | null {
  const names = items.map((a) => (a.t === "expr" && a.assign?.t === "var" ? a.assign.name : null));
  if (names.some((n) => n === null)) return null;
  for (let k = 2; k <= items.length / 2; k++) {
    if (items.length % k !== 0 || new Set(names.slice(0, k)).size !== k) continue;
    if (!names.every((n, i) => n === names[i % k])) continue;
    const tuples: Answer[] = [];
    for (let i = 0; i < items.length; i += k)
      tuples.push({
        t: "seq",
        open: "(",
        close: ")",
        items: items.slice(i, i + k).map((a) => ({ ...(a as Answer & { t: "expr" }), assign: undefined })),
      });
    return { t: "set", items: tuples };
  }
  return null;
}

function flattenPm(items: Answer[]): Answer[] {
  return items.flatMap((a) => (a.t === "set" && a.pm ? a.items : [a]));
}

// "1 \pm \sqrt{19}" is the set {1+\sqrt{19}, 1-\sqrt{19}}.
function expandPm(toks: Token[]): Token[][] | null {
  const k = toks.findIndex((t) => t.k === "cmd" && (t.v === "pm" || t.v === "mp"));
  if (k < 0) return null;
  const variants: Token[][] = [];
  for (const sign of ["+", "-"]) {
    const head = toks.slice(0, k);
    const tail = toks.slice(k + 1);
    const more = expandPm(tail);
    for (const t of more ?? [tail]) variants.push([...head, { k: "op", v: sign }, ...t]);
  }
  return variants;
}

// LHS that only names the answer: x, a_1, \theta, f(x), P(x).
function isNameOnly(toks: Token[]): boolean {
  if (toks.length === 1) return toks[0].k === "id" || toks[0].k === "cmd";
  if (toks.length === 3 && toks[0].k === "id" && isOp(toks[1], "_")) return true;
  if (toks.length === 4 && toks[0].k === "id" && isOp(toks[1], "(") && toks[2].k === "id" && isOp(toks[3], ")"))
    return true;
  if (
    toks.length >= 4 &&
    toks[0].k === "id" &&
    isOp(toks[1], "_") &&
    isOp(toks[2], "{") &&
    isOp(toks[toks.length - 1], "}")
  )
    return true;
  return false;
}

// LHS that names a quantity without computing anything: "AB", "V_{1}:V_{2}", "\frac{NO}{BO}", "S_{MBCN}:S" (letters,
// subscripts, ratios and fractions of them; no number outside a subscript, no + - ^ or parentheses).
function isNameLike(toks: Token[]): boolean {
  if (isNameOnly(toks)) return true;
  let letters = 0,
    sub = 0,
    pendingSub = false;
  for (const t of toks) {
    if (t.k === "id") letters++;
    else if (t.k === "op" && t.v === "_") pendingSub = true;
    else if (t.k === "op" && t.v === "{") {
      if (pendingSub || sub > 0) sub++;
      pendingSub = false;
      continue;
    } else if (t.k === "op" && t.v === "}") {
      if (sub > 0) sub--;
    } else if (t.k === "num") {
      if (!pendingSub && sub === 0) return false;
    } else if (!(t.k === "op" && t.v === ":") && !(t.k === "cmd" && t.v === "frac")) return false;
    if (t.k !== "op" || t.v !== "_") pendingSub = false;
  }
  return letters >= 2;
}

/**
 * Build the answer structure from tokens. Throws MathSyntaxError for what it cannot read.
 * @example build(tokenize("(-\\infty, 1) \\cup (1, \\infty)")) // {t: "union", items: [seq, seq]}
 */
export function build(toks: Token[]): Answer {
  if (toks.length === 0) throw new MathSyntaxError("empty");
  const mats = matrixArithmetic(toks);
  if (mats) return mats;
  if (toks[0].k === "cmd" && toks[0].v === "begin") return matrix(toks);
  const union = split(toks, (t) => t.k === "cmd" && t.v === "cup");
  if (union.length > 1) return { t: "union", items: union.map(build) };
  const commas = split(toks, (t) => isOp(t, ",") || isOp(t, ";"));
  if (commas.length > 1) {
    const items = flattenPm(commas.map(build));
    return namedTuples(items) ?? { t: "set", items, bare: true };
  }
  const first = toks[0];
  if (first.k === "op" && OPEN.has(first.v) && matchClose(toks) === toks.length - 1) {
    const inner = toks.slice(1, -1);
    const close = toks[toks.length - 1].v;
    if (first.v === "\\{")
      return { t: "set", items: inner.length ? flattenPm(split(inner, (t) => isOp(t, ",")).map(build)) : [] };
    // "(0;-2;6)": semicolons separate the entries when there is no comma
    let parts = split(inner, (t) => isOp(t, ","));
    if (parts.length === 1 && first.v === "(") parts = split(inner, (t) => isOp(t, ";"));
    // "{-2021, 2021}" (braces without backslashes) is the list it groups.
    if (parts.length > 1 && first.v === "{") return { t: "set", items: flattenPm(parts.map(build)), bare: true };
    if (parts.length > 1) return { t: "seq", open: first.v, close, items: parts.map(build) };
  }
  const rel = split(toks, (t) => (t.k === "op" && RELS.has(t.v)) || (t.k === "cmd" && RELS.has(t.v)));
  const rels = rel.slice(0, -1).map((part, k) => toks[rel.slice(0, k + 1).reduce((n, p) => n + p.length + 1, 0) - 1].v);
  if (rel.length === 2) {
    const relTok = rels[0];
    if (relTok === "=" && isNameOnly(rel[0])) {
      // "y = 2x + 3" is the answer 2x + 3, but remembers y so it still matches the equation x + y = 1 style.
      const value = build(rel[1]);
      if (value.t === "expr") value.assign = parseExpr(rel[0]);
      return value;
    }
    // "AB = 4", "V_1:V_2 = 11:21": the left side names the answer, the right side is it.
    if (relTok === "=" && isNameLike(rel[0])) return build(rel[1]);
    const right = build(rel[1]);
    try {
      return { t: "eq", rel: relTok, lhs: parseExpr(rel[0]), rhs: parseExpr(rel[1]), right };
    } catch (err) {
      // "(p,q) = (3,2)": no expression on the left, the right side is the answer.
      if (relTok === "=" && err instanceof MathSyntaxError) return right;
      throw err;
    }
  }
  if (rel.length > 2) {
    // "x = 5+5+1 = 7 = 11": a chain of equalities ends with the answer (named by its first part when that is a name).
    if (rels.every((r) => r === "=")) {
      const value = build(rel[rel.length - 1]);
      if (value.t === "expr" && isNameOnly(rel[0])) value.assign = parseExpr(rel[0]);
      return value;
    }
    // "-2 \le x \le 7" is the interval [-2, 7].
    const up = rels.every((r) => r === "<" || r === "le"),
      down = rels.every((r) => r === ">" || r === "ge");
    if (rel.length === 3 && (up || down) && isNameOnly(rel[1])) {
      const [lo, hi] = up ? [0, 2] : [2, 0];
      const strict = (r: string) => r === "<" || r === ">";
      const [rLo, rHi] = up ? rels : [rels[1], rels[0]];
      return {
        t: "seq",
        open: strict(rLo) ? "(" : "[",
        close: strict(rHi) ? ")" : "]",
        items: [build(rel[lo]), build(rel[hi])],
      };
    }
    // "1 \le |z| \le 3/2" is [-3/2, -1] \cup [1, 3/2].
    const abs = rel[1];
    if (
      rel.length === 3 &&
      (up || down) &&
      abs.length === 3 &&
      isOp(abs[0], "|") &&
      isOp(abs[2], "|") &&
      abs[1].k === "id"
    ) {
      const strict = (r: string) => r === "<" || r === ">";
      const [rLo, rHi] = up ? rels : [rels[1], rels[0]];
      const lo = parseExpr(rel[up ? 0 : 2]),
        hi = parseExpr(rel[up ? 2 : 0]);
      const ex = (e: Expr): Answer => ({ t: "expr", e, pct: false });
      const neg = (e: Expr): Expr => ({ t: "neg", a: e });
      const [o, c] = [strict(rLo) ? "(" : "[", strict(rHi) ? ")" : "]"];
      const mirrored = {
        t: "seq" as const,
        open: c === ")" ? "(" : "[",
        close: o === "(" ? ")" : "]",
        items: [ex(neg(hi)), ex(neg(lo))],
      };
      return { t: "union", items: [mirrored, { t: "seq", open: o, close: c, items: [ex(lo), ex(hi)] }] };
    }
    throw new MathSyntaxError("chained relation");
  }
  // "7:32": a ratio, compared part by part (a time "4:30" is one too, never "equal" to 2:15).
  const ratio = split(toks, (t) => isOp(t, ":"));
  if (ratio.length > 1) return { t: "ratio", items: ratio.map(build) };
  const pm = expandPm(toks);
  if (pm) return { t: "set", items: pm.map(build), pm: true };
  let e = parseExpr(toks);
  let pct = false;
  if (e.t === "pct") {
    pct = true;
    e = e.a;
  }
  return { t: "expr", e, pct };
}

/** Parse a normalised answer string into its structure, or a text answer when it cannot be read as math. */
export function structureOf(text: string): Answer {
  if (text.length > 2000) return { t: "text", s: text };
  try {
    return build(tokenize(text));
  } catch (err) {
    if (err instanceof MathSyntaxError || err instanceof RangeError) return { t: "text", s: text };
    throw err;
  }
}
