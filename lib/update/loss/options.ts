// Reading a variant's own options (the `...rest` of update.policyLoss's options): a default when absent, a CellrlError
// naming the option when it is not a finite number in range.
import { fail, describe } from "../../core/errors.js";
import type { PolicyLossVariantOptions } from "../registries.js";

/**
 * A variant's numeric option, its default when undefined; fails unless finite and within [min, max] (exclusive bounds
 * with `above` / `below`).
 * @example const tau = numOption(options, "tauPos", 1, {above: 0})
 */
export function numOption(
  options: PolicyLossVariantOptions,
  name: string,
  dflt: number,
  range: { min?: number; max?: number; above?: number; below?: number } = {},
): number {
  const v = options[name] === undefined ? dflt : options[name];
  const { min = -Infinity, max = Infinity, above = -Infinity, below = Infinity } = range;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || !(v > above) || !(v < below)) {
    const lo = Number.isFinite(above) ? `> ${above}` : Number.isFinite(min) ? `≥ ${min}` : "";
    const hi = Number.isFinite(below) ? `< ${below}` : Number.isFinite(max) ? `≤ ${max}` : "";
    const want = [lo, hi].filter(Boolean).join(" and ");
    fail(
      "invalid_option",
      `update.policyLoss: options.${name} is ${describe(v)} (expected a finite number${want ? ` ${want}` : ""}; ` +
        `default ${dflt}).`,
      { path: ["options", name], got: v },
    );
  }
  return v as number;
}
