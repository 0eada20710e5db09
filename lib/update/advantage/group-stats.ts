// Per-group and per-batch reward statistics shared by the group-relative estimators.
import { describe, fail } from "../../core/errors.js";

/** Mean, standard deviation and size of each group. */
export interface GroupStats {
  mean: Float64Array;
  std: Float64Array;
  count: Int32Array;
}

/**
 * Group means and standard deviations; `unbiased` divides the variance by n − 1 (torch.std), else by n.
 * A group of one has std 0 (unbiased std is undefined there; callers give it advantage 0).
 * @example const g = groupStats(rewards, groups, 2, true); g.mean[0]
 */
export function groupStats(x: ArrayLike<number>, groups: Int32Array, nGroups: number, unbiased: boolean): GroupStats {
  const mean = new Float64Array(nGroups),
    m2 = new Float64Array(nGroups),
    count = new Int32Array(nGroups);
  for (let i = 0; i < x.length; i++) {
    mean[groups[i]] += x[i];
    count[groups[i]]++;
  }
  for (let g = 0; g < nGroups; g++) if (count[g] > 0) mean[g] /= count[g];
  for (let i = 0; i < x.length; i++) m2[groups[i]] += (x[i] - mean[groups[i]]) ** 2;
  const std = new Float64Array(nGroups);
  for (let g = 0; g < nGroups; g++) {
    const d = unbiased ? count[g] - 1 : count[g];
    std[g] = d > 0 ? Math.sqrt(m2[g] / d) : 0;
  }
  return { mean, std, count };
}

/**
 * Weighted mean and standard deviation of the whole batch (weights = token counts when whitening over tokens).
 * @example batchStats([1, 0], true, [3, 1]) // {mean: 0.75, std: 0.5}
 */
export function batchStats(
  x: ArrayLike<number>,
  unbiased: boolean,
  weights?: ArrayLike<number>,
): { mean: number; std: number } {
  let s = 0,
    n = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i] : 1;
    s += w * x[i];
    n += w;
  }
  const mean = n > 0 ? s / n : 0;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (weights ? weights[i] : 1) * (x[i] - mean) ** 2;
  const d = unbiased ? n - 1 : n;
  return { mean, std: d > 0 ? Math.sqrt(v / d) : 0 };
}

/**
 * Number of groups: 1 + the largest index.
 * @example countGroups(Int32Array.from([0, 0, 2])) // 3
 */
export function countGroups(groups: Int32Array): number {
  let g = -1;
  for (let i = 0; i < groups.length; i++) if (groups[i] > g) g = groups[i];
  return g + 1;
}

/**
 * Checks the `singleton` option of the group estimators: "zero" (cellrl: a group of one gets 0) or "verl".
 * @example checkSingleton(options.singleton ?? "zero", "rloo")
 */
export function checkSingleton(v: unknown, estimator: string): void {
  if (v !== "zero" && v !== "verl")
    fail(
      "invalid_option",
      `update.advantage: options.singleton of "${estimator}" is ${describe(v)} (expected "zero": a group of ` +
        `one gets advantage 0, or "verl": verl's mean 0 / std 1 for it).`,
      { path: ["options", "singleton"] },
    );
}
