import { fail } from "../core/errors.js";
import { bootstrapCI, type BootstrapOptions } from "./aggregate.js";

/** Result of comparing two runs on the same items. */
export interface PairedComparison {
  /** Items where both runs are correct / only A / only B / neither (by per-item correctness). */
  both: number;
  onlyA: number;
  onlyB: number;
  neither: number;
  /** Fraction of items where the runs agree. */
  agreement: number;
  /** Accuracy of A minus accuracy of B (per-item mean scores). */
  diff: number;
  /** McNemar's exact two-sided p-value on the discordant items. */
  mcnemarP: number;
  /** Paired bootstrap CI of the accuracy difference. */
  diffCI: { low: number; high: number };
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * McNemar's exact test: two-sided binomial p-value that discordant pairs split evenly (b items only A got right,
 * c only B).
 * @example mcnemarExact(10, 2) // 0.0386
 */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0)
    fail(
      "invalid_input",
      `eval.mcnemarExact: counts must be non-negative integers (got ${b}, ${c}).`,
      {},
      mcnemarExact,
    );
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/**
 * Compare two runs on the same items: agreement, flipped items, McNemar's test and a paired bootstrap of the accuracy
 * difference. Scores are per-item mean scores in [0, 1]; an item counts as correct when its score is >= threshold.
 * @example compareRuns([1, 0, 1], [1, 1, 0])
 */
export function compareRuns(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions & { threshold?: number } = {},
): PairedComparison {
  if (a.length !== b.length)
    fail(
      "shape_mismatch",
      `eval.compareRuns: runs cover different item counts (${a.length} vs ${b.length}); align them by item id first.`,
      {},
      compareRuns,
    );
  if (a.length === 0) fail("invalid_input", "eval.compareRuns: no items (got empty runs).", {}, compareRuns);
  const threshold = options.threshold ?? 0.5;
  let both = 0,
    onlyA = 0,
    onlyB = 0,
    neither = 0,
    sa = 0,
    sb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i]))
      fail(
        "non_finite",
        `eval.compareRuns: item ${i} has a non-finite score (${a[i]}, ${b[i]}).`,
        { path: ["items", i] },
        compareRuns,
      );
    const ca = a[i] >= threshold,
      cb = b[i] >= threshold;
    if (ca && cb) both++;
    else if (ca) onlyA++;
    else if (cb) onlyB++;
    else neither++;
    sa += a[i];
    sb += b[i];
  }
  const idx = a.map((_, i) => i);
  const ci = bootstrapCI(idx, (s) => s.reduce((acc, i) => acc + a[i] - b[i], 0) / s.length, options);
  return {
    both,
    onlyA,
    onlyB,
    neither,
    agreement: (both + neither) / a.length,
    diff: (sa - sb) / a.length,
    mcnemarP: mcnemarExact(onlyA, onlyB),
    diffCI: { low: ci.low, high: ci.high },
  };
}
