// A small recursive-descent parser for LaTeX math expressions (the answers of MATH, AIME, OlympiadBench...).
// It covers what answers contain: + − · ÷ ^ !, \frac \sqrt \binom, trig/log functions, |x|, floor/ceil,
// implicit multiplication, mixed numbers, percent; anything else is a MathSyntaxError (string comparison only).
import { MathSyntaxError, type Token } from "./lexer.js";

/** Expression tree. */
export type Expr =
  | { t: "num"; v: string }
  | { t: "var"; name: string }
  | { t: "const"; name: "pi" | "e" | "i" | "inf" }
  | { t: "add"; args: Expr[] }
  | { t: "neg"; a: Expr }
  | { t: "mul"; args: Expr[] }
  | { t: "div"; a: Expr; b: Expr }
  | { t: "pow"; a: Expr; b: Expr }
  | { t: "fn"; name: string; args: Expr[] }
  | { t: "pct"; a: Expr };

const FUNCS = new Set([
  "sin",
  "cos",
  "tan",
  "cot",
  "sec",
  "csc",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "ln",
  "log",
  "exp",
  "lg",
]);
const GREEK = new Set([
  "alpha",
  "beta",
  "gamma",
  "delta",
  "epsilon",
  "varepsilon",
  "zeta",
  "eta",
  "theta",
  "vartheta",
  "kappa",
  "lambda",
  "mu",
  "nu",
  "xi",
  "rho",
  "sigma",
  "tau",
  "phi",
  "varphi",
  "chi",
  "psi",
  "omega",
  "Gamma",
  "Delta",
  "Theta",
  "Lambda",
  "Sigma",
  "Phi",
  "Psi",
  "Omega",
]);
const MULS = new Set(["cdot", "times", "ast"]);
// Tokens that end an expression (structure separators handled by the caller).
const STOPS = new Set([")", "]", "}", ",", "=", "<", ">", "&", ";", "\\}", "\\\\"]);

class Parser {
  private i = 0;
  private absDepth = 0;
  constructor(private readonly toks: Token[]) {}

  peek(o = 0): Token | undefined {
    return this.toks[this.i + o];
  }
  isOp(v: string, o = 0): boolean {
    const t = this.toks[this.i + o];
    return t !== undefined && t.k === "op" && t.v === v;
  }
  isCmd(v: string): boolean {
    const t = this.toks[this.i];
    return t !== undefined && t.k === "cmd" && t.v === v;
  }
  expect(v: string): void {
    if (!this.isOp(v)) throw new MathSyntaxError(`expected ${v}`);
    this.i++;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }

  parseAll(): Expr {
    const e = this.expr();
    if (!this.done()) throw new MathSyntaxError(`unexpected ${this.peek()!.v}`);
    return e;
  }

  expr(): Expr {
    const args: Expr[] = [this.term()];
    for (;;) {
      if (this.isOp("+")) {
        this.i++;
        args.push(this.term());
      } else if (this.isOp("-")) {
        this.i++;
        args.push({ t: "neg", a: this.term() });
      } else break;
    }
    return args.length === 1 ? args[0] : { t: "add", args };
  }

  // Can the next token start a factor (for implicit multiplication)?
  startsFactor(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.k === "num" || t.k === "id") return true;
    if (t.k === "cmd")
      return (
        !MULS.has(t.v) &&
        t.v !== "div" &&
        ![
          "rfloor",
          "rceil",
          "cup",
          "cap",
          "pm",
          "mp",
          "le",
          "ge",
          "leq",
          "geq",
          "ne",
          "neq",
          "in",
          "to",
          "rangle",
        ].includes(t.v)
      );
    if (t.k === "op") return t.v === "(" || t.v === "[" || t.v === "{" || (t.v === "|" && this.absDepth === 0);
    return false;
  }

  term(): Expr {
    let acc: Expr = this.unary();
    const factors: Expr[] = [acc];
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if ((t.k === "op" && t.v === "*") || (t.k === "cmd" && MULS.has(t.v))) {
        this.i++;
        factors.push(this.unary());
      } else if ((t.k === "op" && t.v === "/") || (t.k === "cmd" && t.v === "div")) {
        this.i++;
        const b = this.unary();
        const a: Expr = factors.length === 1 ? factors[0] : { t: "mul", args: factors.splice(0) };
        factors.length = 0;
        factors.push({ t: "div", a, b });
      } else if (this.startsFactor()) {
        factors.push(this.postfix(this.mixedOrPrimary()));
      } else break;
    }
    acc = factors.length === 1 ? factors[0] : { t: "mul", args: factors };
    return acc;
  }

  unary(): Expr {
    if (this.isOp("-")) {
      this.i++;
      return { t: "neg", a: this.unary() };
    }
    if (this.isOp("+")) {
      this.i++;
      return this.unary();
    }
    return this.postfix(this.mixedOrPrimary());
  }

  // "12\frac{3}{5}" and "137 \frac{1}{2}" are mixed numbers (12 + 3/5), as MATH answers write them.
  mixedOrPrimary(): Expr {
    const t = this.peek();
    if (t && t.k === "num" && !t.v.includes(".") && this.peek(1)?.k === "cmd" && this.peek(1)!.v === "frac") {
      const save = this.i;
      this.i += 2;
      const a = this.arg(),
        b = this.arg();
      const nextIsPow = this.isOp("^");
      if (a.t === "num" && b.t === "num" && !a.v.includes(".") && !b.v.includes(".") && !nextIsPow)
        return {
          t: "add",
          args: [
            { t: "num", v: t.v },
            { t: "div", a, b },
          ],
        };
      this.i = save;
    }
    // "4 4/9" (plain text): a whole number and then a proper fraction of integers is a mixed number (40/9); "11 7/6" or
    // "4 4/0" is no number anyone writes, so it is not read at all (never 11·7/6 nor 4·4/0).
    const n1 = this.peek(1),
      n3 = this.peek(3);
    if (int(t) && int(n1) && this.isOp("/", 2) && int(n3) && !this.isOp("^", 4) && !int(this.peek(4))) {
      if (BigInt(n1!.v) >= BigInt(n3!.v)) throw new MathSyntaxError("improper mixed number");
      this.i += 4;
      return {
        t: "add",
        args: [
          { t: "num", v: t!.v },
          { t: "div", a: { t: "num", v: n1!.v }, b: { t: "num", v: n3!.v } },
        ],
      };
    }
    return this.primary();
  }

  postfix(base: Expr): Expr {
    for (;;) {
      if (this.isOp("^")) {
        this.i++;
        if (this.isCmd("circ")) {
          this.i++;
          continue; // degrees: the number itself
        }
        const ex = this.arg();
        base = { t: "pow", a: base, b: ex };
      } else if (this.isOp("!")) {
        this.i++;
        base = { t: "fn", name: "fact", args: [base] };
      } else if (this.isOp("%")) {
        this.i++;
        base = { t: "pct", a: base };
      } else if (this.isOp("'")) {
        throw new MathSyntaxError("prime");
      } else if (this.isOp("_") && base.t === "num") {
        this.i++;
        this.arg(); // base subscript of a numeral (52_8): the digits are the answer
      } else break;
    }
    return base;
  }

  // A command argument: {expr}, or a single token (\frac12 = 1/2, \sqrt2).
  arg(): Expr {
    if (this.isOp("{")) {
      this.i++;
      const e = this.expr();
      this.expect("}");
      return e;
    }
    const t = this.peek();
    if (!t) throw new MathSyntaxError("missing argument");
    if (t.k === "num" && t.v.length > 1 && !t.v.includes(".")) {
      // \frac12: one digit per argument; leave the rest in place.
      this.toks[this.i] = { k: "num", v: t.v.slice(1) };
      return { t: "num", v: t.v[0] };
    }
    if (t.k === "num" || t.k === "id") {
      this.i++;
      return t.k === "num" ? { t: "num", v: t.v } : this.name(t.v);
    }
    if (t.k === "cmd") return this.primary();
    if (t.k === "op" && t.v === "-") {
      this.i++;
      return { t: "neg", a: this.arg() };
    }
    throw new MathSyntaxError(`bad argument ${t.v}`);
  }

  name(letter: string): Expr {
    if (letter === "i") return { t: "const", name: "i" };
    if (letter === "e") return { t: "const", name: "e" };
    let name = letter;
    if (this.isOp("_")) {
      this.i++;
      const sub = this.peek();
      if (sub && (sub.k === "num" || sub.k === "id")) {
        this.i++;
        name += "_" + sub.v;
      } else if (this.isOp("{")) {
        let depth = 0;
        let text = "";
        do {
          const x = this.toks[this.i++];
          if (!x) throw new MathSyntaxError("unclosed subscript");
          if (x.k === "op" && x.v === "{") depth++;
          if (x.k === "op" && x.v === "}") depth--;
          text += x.v;
        } while (depth > 0);
        name += "_" + text;
      } else throw new MathSyntaxError("bad subscript");
    }
    return { t: "var", name };
  }

  group(close: string): Expr {
    const e = this.expr();
    this.expect(close);
    return e;
  }

  primary(): Expr {
    const t = this.peek();
    if (!t) throw new MathSyntaxError("unexpected end");
    this.i++;
    if (t.k === "num") return { t: "num", v: t.v };
    if (t.k === "id") return this.name(t.v);
    if (t.k === "op") {
      if (t.v === "(") return this.group(")");
      if (t.v === "[") return this.group("]");
      if (t.v === "{") return this.group("}");
      if (t.v === "|") {
        this.absDepth++;
        const e = this.expr();
        this.absDepth--;
        this.expect("|");
        return { t: "fn", name: "abs", args: [e] };
      }
      throw new MathSyntaxError(`unexpected ${t.v}`);
    }
    return this.command(t.v);
  }

  command(c: string): Expr {
    switch (c) {
      case "frac":
        return { t: "div", a: this.arg(), b: this.arg() };
      case "sqrt": {
        if (this.isOp("[")) {
          this.i++;
          const n = this.group("]");
          return { t: "pow", a: this.arg(), b: { t: "div", a: { t: "num", v: "1" }, b: n } };
        }
        return { t: "fn", name: "sqrt", args: [this.arg()] };
      }
      case "binom":
        return { t: "fn", name: "binom", args: [this.arg(), this.arg()] };
      case "pi":
        return { t: "const", name: "pi" };
      case "infty":
      case "infin":
        return { t: "const", name: "inf" };
      case "lfloor": {
        const e = this.expr();
        if (!this.isCmd("rfloor")) throw new MathSyntaxError("expected \\rfloor");
        this.i++;
        return { t: "fn", name: "floor", args: [e] };
      }
      case "lceil": {
        const e = this.expr();
        if (!this.isCmd("rceil")) throw new MathSyntaxError("expected \\rceil");
        this.i++;
        return { t: "fn", name: "ceil", args: [e] };
      }
      case "imath":
        return { t: "const", name: "i" };
      case "sum":
      case "prod":
        return this.bigOperator(c);
    }
    if (GREEK.has(c)) return { t: "var", name: c };
    if (FUNCS.has(c)) return this.func(c);
    throw new MathSyntaxError(`unsupported \\${c}`);
  }

  // \sum_{k=a}^{b} body, \prod_{k=a}^{b} body (body = juxtaposed factors up to the next + or -): fn(k, a, b, body)
  // with k bound. Compared as an uninterpreted operator: same bounds and the same body (up to algebra), not evaluated.
  bigOperator(name: string): Expr {
    if (!this.isOp("_")) throw new MathSyntaxError(`\\${name} without bounds`);
    this.i++;
    this.expect("{");
    const k = this.peek();
    if (!k || k.k !== "id" || !this.isOp("=", 1)) throw new MathSyntaxError(`\\${name}: expected {k=...}`);
    this.i += 2;
    const lo = this.expr();
    this.expect("}");
    if (!this.isOp("^")) throw new MathSyntaxError(`\\${name} without an upper bound`);
    this.i++;
    const hi = this.arg();
    const factors: Expr[] = [this.unary()];
    while (this.startsFactor()) factors.push(this.postfix(this.mixedOrPrimary()));
    let body: Expr = factors.length === 1 ? factors[0] : { t: "mul", args: factors };
    // an index named i or e is the index, not the imaginary unit or Euler's number
    if (k.v === "i" || k.v === "e") body = constToVar(body, k.v);
    return { t: "fn", name, args: [{ t: "var", name: k.v }, lo, hi, body] };
  }

  // \sin^2 x, \log_2 8, \ln(x+1), \sin 2x (argument = juxtaposed factors up to the next + or -).
  func(name: string): Expr {
    let power: Expr | null = null;
    let base: Expr | null = null;
    for (let k = 0; k < 2; k++) {
      if (this.isOp("^")) {
        this.i++;
        power = this.arg();
      } else if (this.isOp("_")) {
        this.i++;
        base = this.arg();
      }
    }
    let a: Expr;
    if (this.isOp("(")) {
      this.i++;
      a = this.group(")");
    } else {
      const factors: Expr[] = [this.unary()];
      while (this.startsFactor() && !(this.peek()!.k === "cmd" && FUNCS.has(this.peek()!.v)))
        factors.push(this.postfix(this.primary()));
      a = factors.length === 1 ? factors[0] : { t: "mul", args: factors };
    }
    let e: Expr = { t: "fn", name: name === "lg" ? "log" : name, args: base ? [a, base] : [a] };
    if (power) e = { t: "pow", a: e, b: power };
    return e;
  }
}

// The tree with the constant `name` (i or e) read as the variable of that name.
function constToVar(e: Expr, name: string): Expr {
  switch (e.t) {
    case "const":
      return e.name === name ? { t: "var", name } : e;
    case "add":
    case "mul":
      return { ...e, args: e.args.map((a) => constToVar(a, name)) };
    case "fn":
      return { ...e, args: e.args.map((a) => constToVar(a, name)) };
    case "neg":
    case "pct":
      return { ...e, a: constToVar(e.a, name) };
    case "div":
    case "pow":
      return { ...e, a: constToVar(e.a, name), b: constToVar(e.b, name) };
    default:
      return e;
  }
}

// An integer literal token.
function int(x: Token | undefined): boolean {
  return x !== undefined && x.k === "num" && !x.v.includes(".");
}

/**
 * Parse a normalised LaTeX expression (no top-level commas, brackets of intervals, or equations) into a tree.
 * @example parseExpr(tokenize("\\frac{1}{2}x^2")) // {t: "mul", ...}
 */
export function parseExpr(tokens: Token[]): Expr {
  if (tokens.length === 0) throw new MathSyntaxError("empty expression");
  return new Parser(tokens.slice()).parseAll();
}

/** Whether a token ends an expression at top level (used by the structure splitter). */
export function isStop(t: Token): boolean {
  return t.k === "op" && STOPS.has(t.v);
}
