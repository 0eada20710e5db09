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
  /** When > 0, numbers match within this absolute-or-relative error (Codeforces style). Defaults to 0 (exact decimals). */
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

/**
 * Python `==` between a returned JSON value and the expected one (so True == 1 and 2 == 2.0, as LiveCodeBench).
 * @example valuesEqual([1, true], [1, 1]) // true
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "boolean") a = a ? 1 : 0;
  if (typeof b === "boolean") b = b ? 1 : 0;
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => valuesEqual(x, b[i]));
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every(
      (k) =>
        Object.prototype.hasOwnProperty.call(b, k) &&
        valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    );
  }
  return false;
}
