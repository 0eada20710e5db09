// Validation of task difficulty knobs: one clear error naming the task, the knob and the allowed range.
import { describe, fail } from "../core/errors.js";

/** Check an integer knob in [min, max]. */
export function intKnob(task: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    fail(
      "invalid_option",
      `tasks.${task}: ${name} must be an integer in [${min}, ${max}] (got ${describe(value)}). ` +
        `Pass {${name}: ${min}} or larger.`,
      { path: [name], got: value, expected: [min, max] },
    );
  return value as number;
}

/** Check a knob that must be one of a few strings (or a non-empty subset of them). */
export function choiceKnob<T extends string>(task: string, name: string, value: unknown, allowed: readonly T[]): T[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => !allowed.includes(v as T)))
    fail(
      "invalid_option",
      `tasks.${task}: ${name} must be a non-empty list drawn from ${JSON.stringify(allowed)} ` +
        `(got ${describe(value)}).`,
      { path: [name], got: value, expected: allowed },
    );
  return list as T[];
}

/** Reject knobs the task does not know (typos would otherwise be ignored silently). */
export function rejectUnknown(task: string, options: object, known: object): void {
  const extra = Object.keys(options).filter(
    (k) => !(k in known) && !["seed", "rng", "split", "startIndex", "unique", "exclude", "system"].includes(k),
  );
  if (extra.length > 0)
    fail(
      "invalid_option",
      `tasks.${task}: unknown option${extra.length > 1 ? "s" : ""} ${extra.map((k) => JSON.stringify(k)).join(", ")} ` +
        `(known: ${Object.keys(known).join(", ")}).`,
      { path: [extra[0]], got: extra, expected: Object.keys(known) },
    );
}

/** Uniform integer in [lo, hi]. */
export function between(rng: { int(n: number): number }, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

/** A random number with exactly `digits` digits (0..9 for one digit). */
export function withDigits(rng: { int(n: number): number }, digits: number): number {
  return digits === 1 ? rng.int(10) : between(rng, 10 ** (digits - 1), 10 ** digits - 1);
}
