// Small named checks that build cellrl's error messages, so a call site reads as the rule it enforces instead of a
// 200-character `fail(...)`. Every message keeps the shape `<where>: <what> <rule> (got <value>). <fix>` and every
// throw goes through `fail`, so the error code, path and stack frame (`from`) are as before. Internal: not exported
// from lib/index.ts.
import { describe, fail, nearest, type CellrlErrorCode } from "./errors.js";

/** Where a check reports from: the message prefix, the public function the stack starts at, and the error code. */
export interface CheckSite {
  /** Message prefix "<folder>.<fn>", e.g. "model.AdamW.accumulate". */
  where: string;
  /** The public function the stack trace starts at (the `from` of `fail`). Defaults to none. */
  from?: Function;
  /** Error code. Defaults to "invalid_option". */
  code?: CellrlErrorCode;
}

/** The default error path of a value named `what`: "options.size" -> ["size"], "maxNorm" -> ["maxNorm"]. */
function pathOf(what: string): string[] {
  return [what.replace(/^options\./, "")];
}

/**
 * Throw `<where>: <what> <rule> (got <describe(got)>).` plus ` <fix>` when given, with `{path, got}` in the error.
 * `path` defaults to [what without a leading "options."]; pass [] for none.
 * @example mustBe({where: "model.clipGradNorm", from: clipGradNorm}, "maxNorm", "must be > 0", maxNorm)
 */
export function mustBe(
  at: CheckSite,
  what: string,
  rule: string,
  got: unknown,
  fix?: string,
  path: (string | number)[] = pathOf(what),
): never {
  const message = `${at.where}: ${what} ${rule} (got ${describe(got)}).${fix ? " " + fix : ""}`;
  return fail(at.code ?? "invalid_option", message, { path, got }, at.from);
}

/** Check `value` is an integer >= 1, else `<what> must be a positive integer (got ...)`. */
export function checkPositiveInt(
  at: CheckSite,
  what: string,
  value: unknown,
  fix?: string,
  path?: (string | number)[],
): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 1)
    mustBe(at, what, "must be a positive integer", value, fix, path);
}

/** Check `value` is an integer >= `min`, else `<what> must be an integer >= <min> (got ...)`. */
export function checkIntAtLeast(
  at: CheckSite,
  what: string,
  value: unknown,
  min: number,
  fix?: string,
  path?: (string | number)[],
): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < min)
    mustBe(at, what, `must be an integer >= ${min}`, value, fix, path);
}

/** Check `value` is an integer >= `min`, else `<what> must be a whole number >= <min> (got ...)` (evals' wording). */
export function checkWholeAtLeast(
  at: CheckSite,
  what: string,
  value: unknown,
  min: number,
  fix?: string,
  path?: (string | number)[],
): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < min)
    mustBe(at, what, `must be a whole number >= ${min}`, value, fix, path);
}

/** Check `value` is a finite number, else `<what> must be a finite number (got ...)`. */
export function checkFinite(
  at: CheckSite,
  what: string,
  value: unknown,
  fix?: string,
  path?: (string | number)[],
): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value))
    mustBe(at, what, "must be a finite number", value, fix, path);
}

/** Check `value` is a non-empty string, else `<what> must be a non-empty string (got ...)`. */
export function checkNonEmptyString(
  at: CheckSite,
  what: string,
  value: unknown,
  fix?: string,
  path?: (string | number)[],
): asserts value is string {
  if (typeof value !== "string" || value.length === 0) mustBe(at, what, "must be a non-empty string", value, fix, path);
}

/**
 * The end of an "unknown name" message: ` Did you mean "<nearest known>"?` when one is close, else `otherwise`.
 * @example `unknown template "chatmal" (known: a, b).${didYouMean("chatmal", known, " Pass the Jinja text.")}`
 */
export function didYouMean(name: string, known: readonly string[], otherwise = ""): string {
  const near = nearest(name, known);
  return near ? ` Did you mean "${near}"?` : otherwise;
}

/**
 * The first `k` items joined by `sep`, then `<more>N more` when `total` (defaults to items.length) exceeds `k`.
 * @example firstOf(["a", "b", "c"], 2, ", ") // "a, b and 1 more"
 */
export function firstOf(
  items: readonly string[],
  k: number,
  sep: string,
  more = " and ",
  total = items.length,
): string {
  return items.slice(0, k).join(sep) + andMore(total, Math.min(k, items.length), more);
}

/**
 * `<more>N more` when `total` exceeds `shown` (N = total - shown), else "".
 * @example andMore(10, 8) // " and 2 more"
 */
export function andMore(total: number, shown: number, more = " and "): string {
  return total > shown ? `${more}${total - shown} more` : "";
}
