import { fail } from "../core/errors.js";

/**
 * Unbiased pass@k (Chen et al. 2021, arXiv:2107.03374): the chance that at least one of k samples drawn without
 * replacement from n samples with c correct is correct: 1 − C(n−c, k) / C(n, k), computed as a stable product.
 * @example passAtK(8, 2, 4) // 0.7857...
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || n < 1)
    fail("invalid_input", `eval.passAtK: n must be an integer >= 1 (got ${n}).`, { path: ["n"], got: n }, passAtK);
  if (!Number.isInteger(c) || c < 0 || c > n)
    fail(
      "invalid_input",
      `eval.passAtK: c must be an integer in [0, n] (got ${c} with n = ${n}).`,
      { path: ["c"], got: c },
      passAtK,
    );
  if (!Number.isInteger(k) || k < 1 || k > n)
    fail(
      "invalid_input",
      `eval.passAtK: k must be an integer in [1, n] (got ${k} with n = ${n}). Sample at least k responses per item.`,
      {
        path: ["k"],
        got: k,
      },
      passAtK,
    );
  if (n - c < k) return 1;
  if (k === 1) return c / n; // exact, avoids rounding in the product
  let prodFail = 1;
  for (let i = n - c + 1; i <= n; i++) prodFail *= 1 - k / i;
  return 1 - prodFail;
}

/** Mean pass@k over items, each given as its number of samples n and correct c. */
export function meanPassAtK(items: readonly { n: number; c: number }[], k: number): number {
  if (items.length === 0) fail("invalid_input", "eval.meanPassAtK: no items (got an empty list).", {}, meanPassAtK);
  let s = 0;
  for (const it of items) s += passAtK(it.n, it.c, k);
  return s / items.length;
}
