// Equivalence of two answer structures: exact values for rationals, a relative tolerance once a decimal is
// involved, random-point evaluation for expressions with variables, unordered matching for sets and lists.
import { Rng } from "../../core/random.js";
import { decimalPlaces, evaluate, freeVars, needsIntegers } from "./evaluate.js";
import type { Expr } from "./parse.js";
import type { Answer } from "./structure.js";
import * as V from "./value.js";
import type { Value } from "./value.js";

/** Settings of the equivalence check. */
export interface EqualSettings {
  /** Relative tolerance when a decimal literal is involved. */
  relTol: number;
  /** Number of random points for expressions with variables. */
  points: number;
  /** Seed of the random points (fixed, so grading is deterministic). */
  seed: number;
  /** "either": a % on one side may be kept or mean /100; "fraction": a predicted % only means /100 (Math-Verify). */
  percent?: "either" | "fraction";
}

/** Which rule decided a comparison; "none" when nothing matched. */
export type EqualRule =
  | "numeric"
  | "exact-rational"
  | "symbolic"
  | "percent"
  | "tuple"
  | "set"
  | "interval-union"
  | "matrix"
  | "equation"
  | "vector"
  | "text"
  | "none";

interface Ctx {
  s: EqualSettings;
  rule: EqualRule;
}

const EXACT_TOL = 1e-9; // both sides exact forms (radicals, pi): only float rounding may differ

// Two constants. Exact forms compare exactly (rationals) or to float rounding (radicals, pi). Once a decimal is
// written, both must hold: relative error <= relTol, and the gap is within half a unit of the last written digit
// of the less precise decimal (so 9999.857142857143 is not 10000, but 3.1416 is pi and 0.15 is 3/20).
function valueEq(a: Value, b: Value, places: number, ctx: Ctx): boolean {
  let ok: boolean;
  if (places === 0) ok = V.valuesEqual(a, b, EXACT_TOL, true);
  else {
    ok = V.valuesEqual(a, b, ctx.s.relTol, false);
    if (ok) {
      const x = V.toCx(a),
        y = V.toCx(b);
      const gap = Math.hypot(x.re - y.re, x.im - y.im);
      ok = gap <= 0.5 * Math.pow(10, -places) * (1 + 1e-9) + 1e-15;
    }
  }
  if (ok) ctx.rule = a.kind === "rat" && b.kind === "rat" && places === 0 ? "exact-rational" : "numeric";
  return ok;
}

// Decimal places that bound the comparison: those of the less precise side that writes a decimal.
function placesOf(g: Expr, p: Expr): number {
  const a = decimalPlaces(g),
    b = decimalPlaces(p);
  return a === 0 ? b : b === 0 ? a : Math.min(a, b);
}

function randomPoint(vars: string[], integers: boolean, rng: Rng): Map<string, Value> {
  const env = new Map<string, Value>();
  for (const v of vars) {
    // Rational points keep polynomial and rational expressions exact; avoid 0 and ±1 where identities coincide.
    if (integers) env.set(v, V.rat(BigInt(2 + rng.int(11))));
    else {
      const n = BigInt(2 + rng.int(39)) * (rng.int(2) === 0 ? 1n : -1n);
      env.set(v, V.rat(n, BigInt(1 + rng.int(9))));
    }
  }
  return env;
}

function exprEq(g: Expr, p: Expr, ctx: Ctx): boolean {
  const places = placesOf(g, p);
  const decimals = places > 0;
  const vars = [...freeVars(g, freeVars(p))].sort();
  if (vars.length === 0) {
    const a = evaluate(g, new Map()),
      b = evaluate(p, new Map());
    return valueEq(a, b, places, ctx);
  }
  const integers = needsIntegers(g) || needsIntegers(p);
  const rng = new Rng(ctx.s.seed);
  let good = 0;
  for (let tries = 0; tries < ctx.s.points * 4 && good < ctx.s.points; tries++) {
    const env = randomPoint(vars, integers, rng);
    const a = evaluate(g, env),
      b = evaluate(p, env);
    if (!V.isFiniteValue(a) || !V.isFiniteValue(b)) continue;
    if (!V.valuesEqual(a, b, decimals ? ctx.s.relTol : 1e-7, !decimals)) return false;
    good++;
  }
  if (good === 0) return false;
  ctx.rule = "symbolic";
  return true;
}

// (lhs1 - rhs1) and (lhs2 - rhs2) must be proportional: x + y = 1 is the same line as 2x + 2y - 2 = 0.
function equationEq(g: Answer & { t: "eq" }, p: Answer & { t: "eq" }, ctx: Ctx): boolean {
  const flip: Record<string, string> = { "<": ">", ">": "<", le: "ge", ge: "le", "=": "=", ne: "ne" };
  const sameDir = g.rel === p.rel,
    flipped = flip[g.rel] === p.rel;
  if (!sameDir && !flipped) return false;
  const fg: Expr = { t: "add", args: [g.lhs, { t: "neg", a: g.rhs }] };
  const fp: Expr = { t: "add", args: [p.lhs, { t: "neg", a: p.rhs }] };
  const vars = [...freeVars(fg, freeVars(fp))].sort();
  const rng = new Rng(ctx.s.seed);
  let ratio: Value | null = null;
  let good = 0;
  for (let tries = 0; tries < ctx.s.points * 4 && good < ctx.s.points; tries++) {
    const env = randomPoint(vars, needsIntegers(fg) || needsIntegers(fp), rng);
    const a = evaluate(fg, env),
      b = evaluate(fp, env);
    if (!V.isFiniteValue(a) || !V.isFiniteValue(b)) continue;
    if (V.isZero(a) || V.isZero(b)) {
      if (V.isZero(a) !== V.isZero(b)) return false;
      continue;
    }
    const r = V.div(b, a);
    // An inequality may only be scaled by a positive factor unless its direction flips.
    if (g.rel !== "=" && g.rel !== "ne") {
      const re = V.toCx(r).re;
      if ((sameDir && re <= 0) || (!sameDir && re >= 0)) return false;
    }
    if (ratio === null) ratio = r;
    else if (!V.valuesEqual(ratio, r, 1e-7, true)) return false;
    good++;
  }
  if (good === 0) return false;
  ctx.rule = "equation";
  return true;
}

// A set lists each element once: "(3,17,3,7)" written twice is one element (as SymPy's FiniteSet).
function distinct(items: Answer[], ctx: Ctx): Answer[] {
  if (items.length > 64) return items;
  const out: Answer[] = [];
  for (const a of items) if (!out.some((b) => answersEq(b, a, { s: ctx.s, rule: "none" }))) out.push(a);
  return out;
}

function unordered(gs0: Answer[], ps0: Answer[], ctx: Ctx): boolean {
  const gs = gs0.length === ps0.length ? gs0 : distinct(gs0, ctx);
  const ps = gs0.length === ps0.length ? ps0 : distinct(ps0, ctx);
  if (gs.length !== ps.length) return false;
  const used = new Array<boolean>(ps.length).fill(false);
  for (const g of gs) {
    const k = ps.findIndex((p, i) => !used[i] && answersEq(g, p, { s: ctx.s, rule: "none" }));
    if (k < 0) return false;
    used[k] = true;
  }
  return true;
}

function flatCells(a: Answer & { t: "matrix" }): Answer[] | null {
  if (a.rows.length === 1) return a.rows[0];
  if (a.rows.every((r) => r.length === 1)) return a.rows.map((r) => r[0]);
  return null;
}

/**
 * Whether gold `g` and prediction `p` are the same answer; `ctx.rule` says which rule decided.
 * @example answersEq(structureOf("\\frac{1}{2}"), structureOf("0.5"), ctx) // true, rule "numeric"
 */
export function answersEq(g: Answer, p: Answer, ctx: Ctx): boolean {
  if (g.t === "set" && g.items.length === 1 && p.t !== "set") return answersEq(g.items[0], p, ctx);
  if (p.t === "set" && p.items.length === 1 && g.t !== "set") return answersEq(g, p.items[0], ctx);
  // One value written several ways ("\boxed{15\frac{39}{40}} or \boxed{\frac{639}{40}}"): a set of equal items is that
  // item.
  if (p.t === "set" && g.t !== "set" && p.items.length > 1 && !(g.t === "seq" && p.bare))
    return p.items.every((x) => answersEq(g, x, ctx));
  if (g.t === "set" && p.t !== "set" && g.items.length > 1 && !(p.t === "seq" && g.bare))
    return g.items.every((x) => answersEq(x, p, ctx));
  if (g.t === "expr" && p.t === "expr") {
    if (g.pct === p.pct) return exprEq(g.e, p.e, ctx);
    // 10% = 10 (percent sign dropped) and 10% = 0.1 (percent as a fraction); 10 vs 0.1 without a sign is wrong.
    // With percent: "fraction" a predicted 10% is only 0.1 (a gold 10% still accepts both), as Math-Verify reads it.
    if (!(ctx.s.percent === "fraction" && p.pct) && exprEq(g.e, p.e, ctx)) return true;
    const [pctSide, other] = g.pct ? [g.e, p.e] : [p.e, g.e];
    const scaled: Expr = { t: "div", a: pctSide, b: { t: "num", v: "100" } };
    if (g.pct ? exprEq(scaled, other, ctx) : exprEq(other, scaled, ctx)) {
      ctx.rule = "percent";
      return true;
    }
    return false;
  }
  if (g.t === "seq" && p.t === "seq") {
    if (g.open !== p.open || g.close !== p.close || g.items.length !== p.items.length) return false;
    const ok = g.items.every((x, i) => answersEq(x, p.items[i], { s: ctx.s, rule: "none" }));
    if (ok) ctx.rule = "tuple";
    return ok;
  }
  if (g.t === "set" && p.t === "set") {
    const ok = unordered(g.items, p.items, ctx);
    if (ok) ctx.rule = "set";
    return ok;
  }
  if (g.t === "union" && p.t === "union") {
    const ok = unordered(g.items, p.items, ctx);
    if (ok) ctx.rule = "interval-union";
    return ok;
  }
  if (g.t === "matrix" && p.t === "matrix") {
    if (g.rows.length !== p.rows.length) return false;
    const ok = g.rows.every(
      (r, i) =>
        r.length === p.rows[i].length && r.every((c, j) => answersEq(c, p.rows[i][j], { s: ctx.s, rule: "none" })),
    );
    if (ok) ctx.rule = "matrix";
    return ok;
  }
  // A column or row vector written as a matrix equals the same entries as a tuple.
  if ((g.t === "matrix" && p.t === "seq") || (g.t === "seq" && p.t === "matrix")) {
    const m = (g.t === "matrix" ? g : p) as Answer & { t: "matrix" };
    const s = (g.t === "seq" ? g : p) as Answer & { t: "seq" };
    const cells = flatCells(m);
    if (!cells || s.open !== "(" || cells.length !== s.items.length) return false;
    const ok = cells.every((c, i) =>
      answersEq(g.t === "matrix" ? c : s.items[i], g.t === "matrix" ? s.items[i] : c, { s: ctx.s, rule: "none" }),
    );
    if (ok) ctx.rule = "vector";
    return ok;
  }
  // A bare list "1, 3" (or "{1,3}") against a tuple "(1,3)": the same entries in the same order.
  if ((g.t === "set" && g.bare && p.t === "seq") || (p.t === "set" && p.bare && g.t === "seq")) {
    const st = (g.t === "set" ? g : p) as Answer & { t: "set" };
    const sq = (g.t === "seq" ? g : p) as Answer & { t: "seq" };
    if (sq.open !== "(" || sq.close !== ")" || st.items.length !== sq.items.length) return false;
    const ok = st.items.every((x, i) =>
      g === st ? answersEq(x, sq.items[i], sub(ctx)) : answersEq(sq.items[i], x, sub(ctx)),
    );
    if (ok) ctx.rule = "tuple";
    return ok;
  }
  // "x > 5" against "(5, \infty)": a relation in one variable is its solution set.
  if ((g.t === "eq" && p.t === "seq") || (g.t === "seq" && p.t === "eq")) {
    const iv = relationInterval((g.t === "eq" ? g : p) as Answer & { t: "eq" });
    if (iv) return g.t === "eq" ? answersEq(iv, p, ctx) : answersEq(g, iv, ctx);
  }
  if (g.t === "eq" && p.t === "eq") return equationEq(g, p, ctx);
  // A predicted equation "(x+y)^2 = 81" against a gold value: its right side is the answer (not "... = 0", which is
  // how a curve or a plane is written, and not "14 = 13", whose left side names nothing).
  if (
    p.t === "eq" &&
    p.rel === "=" &&
    p.right &&
    !zero(p.right) &&
    freeVars(p.lhs).size > 0 &&
    g.t !== "eq" &&
    !(g.t === "expr" && g.assign)
  )
    return answersEq(g, p.right, ctx);
  // An equation against a named answer: "x + y = 1" vs "y = 1 - x".
  const asEq = (a: Answer): (Answer & { t: "eq" }) | null =>
    a.t === "eq" ? a : a.t === "expr" && a.assign ? { t: "eq", rel: "=", lhs: a.assign, rhs: a.e } : null;
  if (g.t === "eq" || p.t === "eq") {
    const ge = asEq(g),
      pe = asEq(p);
    return ge !== null && pe !== null && equationEq(ge, pe, ctx);
  }
  if (g.t === "ratio" && p.t === "ratio") {
    const ok = g.items.length === p.items.length && g.items.every((x, i) => answersEq(x, p.items[i], sub(ctx)));
    if (ok) ctx.rule = "tuple";
    return ok;
  }
  if (g.t === "text" && p.t === "text") {
    const ok = g.s.toLowerCase() === p.s.toLowerCase();
    if (ok) ctx.rule = "text";
    return ok;
  }
  return false;
}

function zero(a: Answer): boolean {
  return a.t === "expr" && a.e.t === "num" && Number(a.e.v) === 0;
}

function sub(ctx: Ctx): Ctx {
  return { s: ctx.s, rule: "none" };
}

// "x > 5" -> (5, \infty), "3 \ge y" -> (-\infty, 3]; null unless one side is a lone variable and the other a constant.
function relationInterval(a: Answer & { t: "eq" }): Answer | null {
  if (!["<", ">", "le", "ge"].includes(a.rel)) return null;
  let { lhs, rhs, rel } = a;
  if (rhs.t === "var" && lhs.t !== "var") {
    [lhs, rhs] = [rhs, lhs];
    rel = { "<": ">", ">": "<", le: "ge", ge: "le" }[rel] as string;
  }
  if (lhs.t !== "var" || freeVars(rhs).size > 0) return null;
  const c: Answer = { t: "expr", e: rhs, pct: false };
  const inf = (neg: boolean): Answer => ({
    t: "expr",
    e: neg ? { t: "neg", a: { t: "const", name: "inf" } } : { t: "const", name: "inf" },
    pct: false,
  });
  if (rel === ">" || rel === "ge")
    return { t: "seq", open: rel === ">" ? "(" : "[", close: ")", items: [c, inf(false)] };
  return { t: "seq", open: "(", close: rel === "<" ? ")" : "]", items: [inf(true), c] };
}

/** A fresh comparison context. */
export function newCtx(s: EqualSettings): Ctx {
  return { s, rule: "none" };
}
