// Comparing a program's stdout (or return value) with the expected one.
import { describe, fail } from "../core/errors.js";

/**
 * How stdout is compared. "lines" = LiveCodeBench's grade_stdio: strip the whole text, split lines, strip each, then
 * each line must be equal or equal as a list of decimal numbers ("1.50" = "1.5"); "tokens" = the same on the
 * whitespace-separated tokens, ignoring line breaks; "exact" = byte-equal text.
 */
export type CompareMode = "lines" | "tokens" | "exact";

/** Options of outputsMatch(). */
export interface CompareOptions {
  /** Defaults to "lines" (LiveCodeBench). */
  compare?: CompareMode;
  /**
   * When > 0, numbers match within this absolute-or-relative error (Codeforces style). Defaults to 0 (exact decimals).
   */
  floatTolerance?: number;
}

/** Defaults of outputsMatch(). */
export const defaults: Required<CompareOptions> = { compare: "lines", floatTolerance: 0 };

/** A verdict with the reason for a mismatch. */
export interface MatchResult {
  ok: boolean;
  reason?: string;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Exact canonical form of a decimal token (Python's Decimal equality), or null when it is not a number. */
export function canonicalDecimal(token: string): string | null {
  const inf = /^([+-]?)(inf|infinity)$/i.exec(token);
  if (inf) return `${inf[1] === "-" ? "-" : "+"}inf`;
  const m = DECIMAL.exec(token);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  let digits = (m[2] + (m[3] ?? "")).replace(/^0+/, "");
  let exp = (m[4] ? parseInt(m[4], 10) : 0) - (m[3] ?? "").length;
  if (digits === "") return "0";
  const trail = /0+$/.exec(digits);
  if (trail) {
    digits = digits.slice(0, -trail[0].length);
    exp += trail[0].length;
  }
  return `${m[1] === "-" ? "-" : ""}${digits}e${exp}`;
}

function tokensEqual(a: string[], b: string[], tol: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const ca = canonicalDecimal(a[i]);
    const cb = canonicalDecimal(b[i]);
    if (ca === null || cb === null) return false;
    if (ca === cb) continue;
    if (tol > 0) {
      const x = Number(a[i]);
      const y = Number(b[i]);
      if (Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= tol * Math.max(1, Math.abs(y))) continue;
    }
    return false;
  }
  return true;
}

function clip(s: string, n = 80): string {
  return s.length > n ? JSON.stringify(s.slice(0, n)) + "..." : JSON.stringify(s);
}

/**
 * Whether a program's stdout matches the expected output, LiveCodeBench style by default.
 * @example outputsMatch("3 \n\n", "3").ok // true
 */
export function outputsMatch(actual: string, expected: string, options: CompareOptions = {}): MatchResult {
  const compare = options.compare ?? defaults.compare;
  const tol = options.floatTolerance ?? defaults.floatTolerance;
  if (typeof tol !== "number" || !(tol >= 0))
    fail("invalid_option", `reward.code: floatTolerance must be a number >= 0 (got ${describe(tol)}).`, {
      path: ["floatTolerance"],
      got: tol,
    });
  if (compare === "exact")
    return actual === expected
      ? { ok: true }
      : { ok: false, reason: `output ${clip(actual)} != expected ${clip(expected)}` };
  if (compare === "tokens") {
    const a = actual.split(/\s+/).filter(Boolean);
    const b = expected.split(/\s+/).filter(Boolean);
    return tokensEqual(a, b, tol)
      ? { ok: true }
      : { ok: false, reason: `tokens of ${clip(actual)} != tokens of expected ${clip(expected)}` };
  }
  if (compare !== "lines")
    fail("invalid_option", `reward.code: compare must be "lines", "tokens" or "exact" (got ${describe(compare)}).`, {
      path: ["compare"],
      got: compare,
    });
  const a = actual
    .trim()
    .split("\n")
    .map((l) => l.trim());
  const b = expected
    .trim()
    .split("\n")
    .map((l) => l.trim());
  if (a.length !== b.length)
    return { ok: false, reason: `wrong answer: ${a.length} output lines, expected ${b.length}` };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (!tokensEqual(a[i].split(/\s+/).filter(Boolean), b[i].split(/\s+/).filter(Boolean), tol))
      return { ok: false, reason: `wrong answer at line ${i + 1}: ${clip(a[i])} != ${clip(b[i])}` };
  }
  return { ok: true };
}

/** A Python dict the sandbox returned (its keys may be any plain value). */
export class PyDict {
  constructor(readonly entries: [unknown, unknown][]) {}
}

/** A returned set, frozenset, bytes or complex: never equal to JSON data, except a complex with no imaginary part. */
export class PyOther {
  constructor(
    readonly kind: string,
    readonly value: unknown,
  ) {}
}

/**
 * A plain Python value as the sandbox runner sends it back ({"int": hex}, {"float": repr}, {"tuple": [...]}, {"dict":
 * [[k, v], ...]}, ...; None, bool and str as JSON), decoded: ints to bigint (exact), floats to number, tuples and lists
 * to arrays, dicts to PyDict. Throws on anything else.
 * @example decodePyValue([{int: "-1f"}, {float: "0.5"}]) // [-31n, 0.5]
 */
export function decodePyValue(v: unknown, depth = 0): unknown {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") {
    // Integers within 2^53 come as JSON numbers (exact); floats are always tagged.
    if (!Number.isSafeInteger(v)) throw new Error(`not a plain value: ${v}`);
    return BigInt(v);
  }
  if (depth > 200) throw new Error("value nested too deeply");
  if (Array.isArray(v)) return v.map((x) => decodePyValue(x, depth + 1));
  if (typeof v === "object") {
    const keys = Object.keys(v as object);
    const a = (v as Record<string, unknown>)[keys[0]];
    if (keys.length === 1) {
      const tag = keys[0];
      if (tag === "int" && typeof a === "string" && /^-?[0-9a-f]+$/.test(a))
        return a.startsWith("-") ? -BigInt("0x" + a.slice(1)) : BigInt("0x" + a);
      if (tag === "float" && typeof a === "string")
        return a === "nan" ? NaN : a === "inf" ? Infinity : a === "-inf" ? -Infinity : Number(a);
      if (tag === "tuple" && Array.isArray(a)) return a.map((x) => decodePyValue(x, depth + 1));
      if (tag === "dict" && Array.isArray(a))
        return new PyDict(
          a.map((kv) => {
            if (!Array.isArray(kv) || kv.length !== 2) throw new Error("bad dict entry");
            return [decodePyValue(kv[0], depth + 1), decodePyValue(kv[1], depth + 1)] as [unknown, unknown];
          }),
        );
      if ((tag === "set" || tag === "frozenset" || tag === "deque") && Array.isArray(a))
        return new PyOther(
          tag,
          a.map((x) => decodePyValue(x, depth + 1)),
        );
      if (tag === "bytes" && typeof a === "string") return new PyOther("bytes", a);
      if (tag === "complex" && Array.isArray(a) && a.length === 2)
        return new PyOther("complex", [decodePyValue({ float: a[0] }), decodePyValue({ float: a[1] })]);
    }
  }
  throw new Error(`not a plain value: ${JSON.stringify(v)?.slice(0, 80)}`);
}

type Num = bigint | number;

function asNumber(x: unknown): Num | null {
  if (typeof x === "boolean") return x ? 1n : 0n;
  if (typeof x === "bigint" || typeof x === "number") return x;
  if (x instanceof PyOther && x.kind === "complex") {
    const [re, im] = x.value as number[];
    return im === 0 ? re : null;
  }
  return null;
}

/** Python's exact int/float equality (an int equals a float only when the float is exactly that integer). */
function numbersEqual(a: Num, b: Num): boolean {
  if (typeof a === typeof b) return a === b;
  const i = (typeof a === "bigint" ? a : b) as bigint;
  const f = (typeof a === "number" ? a : b) as number;
  return Number.isInteger(f) && BigInt(f) === i;
}

/**
 * Python `==` between a returned value (decodePyValue) and the expected one (JSON, parseJsonExact): True == 1,
 * 2 == 2.0, integers exactly (12345678901234567891 != 12345678901234567890), dict keys by equality; tuples count as
 * lists (the runner's LiveCodeBench convention).
 * @example valuesEqual([1, true], [1, 1]) // true
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== null || nb !== null) return na !== null && nb !== null && numbersEqual(na, nb);
  if (a === b) return true;
  if (a instanceof PyOther || b instanceof PyOther) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => valuesEqual(x, b[i]));
  }
  const entries = (x: unknown): [unknown, unknown][] | null =>
    x instanceof PyDict ? x.entries : typeof x === "object" && x !== null ? Object.entries(x) : null;
  const ea = entries(a);
  const eb = entries(b);
  if (!ea || !eb || ea.length !== eb.length) return false;
  return ea.every(([k, v]) => {
    const hit = eb.find(([k2]) => valuesEqual(k, k2));
    return hit !== undefined && valuesEqual(v, hit[1]);
  });
}

/**
 * JSON.parse that keeps integers beyond 2^53 exact (as bigint), as Python's json.loads does; other numbers are
 * numbers. Objects are plain objects (a "__proto__" key is an own property, as with JSON.parse).
 * @example parseJsonExact("[12345678901234567890, 1.5]") // [12345678901234567890n, 1.5]
 */
export function parseJsonExact(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const bad = (): never => {
    throw new SyntaxError(`Unexpected token in JSON at position ${i}`);
  };
  const value = (depth: number): unknown => {
    if (depth > 10000) bad();
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") return (i++, out);
      for (;;) {
        ws();
        if (text[i] !== '"') bad();
        const key = value(depth + 1) as string;
        ws();
        if (text[i++] !== ":") bad();
        Object.defineProperty(out, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return (i++, out);
        else bad();
      }
    }
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === "]") return (i++, out);
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return (i++, out);
        else bad();
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
      if (!m) bad();
      i += m![0].length;
      return JSON.parse(m![0]);
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 100000));
    if (m) {
      i += m[0].length;
      if (m[1] === undefined && m[2] === undefined) {
        const n = Number(m[0]);
        return Number.isSafeInteger(n) ? n : BigInt(m[0]);
      }
      return Number(m[0]);
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const)
      if (text.startsWith(word, i)) return ((i += word.length), v);
    return bad();
  };
  const out = value(0);
  ws();
  if (i !== text.length) bad();
  return out;
}

/**
 * A decoded Python value written as Python's json.dumps would (ints exact, floats with a point), for messages.
 * @example showPyValue([1n, 2.0, "a"]) // '[1, 2.0, "a"]'
 */
export function showPyValue(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number")
    return Number.isNaN(v)
      ? "NaN"
      : !Number.isFinite(v)
        ? v > 0
          ? "Infinity"
          : "-Infinity"
        : Number.isInteger(v) && Math.abs(v) < 1e16
          ? v.toFixed(1)
          : String(v);
  if (v === null) return "null";
  if (typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(showPyValue).join(", ")}]`;
  if (v instanceof PyDict) return `{${v.entries.map(([k, x]) => `${showPyValue(k)}: ${showPyValue(x)}`).join(", ")}}`;
  if (v instanceof PyOther) return `${v.kind}(${Array.isArray(v.value) ? showPyValue(v.value) : String(v.value)})`;
  return String(v);
}

/** JSON text of a value that may hold bigints (written as exact integers). */
export function stringifyExact(v: unknown): string {
  const marker = "\u0000bigint:";
  const text = JSON.stringify(v, (_k, x) =>
    typeof x === "bigint"
      ? marker + x.toString()
      : x instanceof PyDict
        ? Object.fromEntries(x.entries.map(([k, y]) => [String(k), y]))
        : x instanceof PyOther
          ? { [x.kind]: x.value }
          : x,
  );
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}
