// REINFORCE++ (outcome reward, gamma = 1): every token of sequence i has return R_i, whitened over all batch tokens.
// With `lengths` the whitening is over tokens exactly as verl's masked_whiten (each sequence weighted by its length);
// without, over sequences. verl subtracts the mean and multiplies by rsqrt(var + 1e-8) with an unbiased variance.
import { advantages, type AdvantageInputs } from "../registries.js";
import { batchStats, checkSingleton, countGroups, groupStats } from "./group-stats.js";

/** Options of "reinforce-pp" and "reinforce-pp-baseline". */
export interface ReinforcePpOptions {
  /** Added to the variance inside the square root (verl masked_whiten). Defaults to 1e-8. */
  eps?: number;
  /**
   * "reinforce-pp-baseline", a group of one: "zero" (its centred reward is 0 before whitening) or "verl" (its baseline
   * is 0, so it keeps R, as verl). Defaults to "zero".
   */
  singleton?: "zero" | "verl";
}
/** Defaults of "reinforce-pp" (verl masked_whiten) (print them in a cell). */
export const reinforcePpDefaults: Required<ReinforcePpOptions> = { eps: 1e-8, singleton: "zero" };

function whiten(x: Float64Array | Float32Array, eps: number, lengths?: Float32Array): Float32Array {
  const { mean, std } = batchStats(x, true, lengths);
  const out = new Float32Array(x.length);
  const inv = 1 / Math.sqrt(std * std + eps);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean) * inv;
  return out;
}

/**
 * REINFORCE++ (arXiv 2501.03262): A_i = (R_i − mean_batch) / sqrt(var_batch + eps), batch statistics over tokens.
 * @example
 * update.advantage("reinforce-pp", {rewards: [1, 0, 1, 0], groups: [0, 0, 1, 1]}) // ≈ [0.866, -0.866, 0.866, -0.866]
 */
export function reinforcePp({ rewards, lengths }: AdvantageInputs, options: ReinforcePpOptions = {}): Float32Array {
  return whiten(rewards, options.eps ?? reinforcePpDefaults.eps, lengths);
}

/**
 * REINFORCE++ with a group baseline: A_i = whiten_batch(R_i − mean(R_g)).
 * @example update.advantage("reinforce-pp-baseline", {rewards: r, groups: ro.group})
 */
export function reinforcePpBaseline(
  { rewards, groups, lengths }: AdvantageInputs,
  options: ReinforcePpOptions = {},
): Float32Array {
  const singleton = options.singleton ?? "zero";
  checkSingleton(singleton, "reinforce-pp-baseline");
  const g = groupStats(rewards, groups, countGroups(groups), false);
  const centred = new Float64Array(rewards.length);
  for (let i = 0; i < rewards.length; i++)
    centred[i] = g.count[groups[i]] < 2 && singleton === "verl" ? rewards[i] : rewards[i] - g.mean[groups[i]];
  return whiten(centred, options.eps ?? reinforcePpDefaults.eps, lengths);
}

advantages.add("reinforce-pp", reinforcePp, {
  paper: "arXiv:2501.03262",
  summary: "whiten(R) over the batch's tokens",
});
advantages.add("reinforce-pp-baseline", reinforcePpBaseline, {
  paper: "arXiv:2501.03262",
  summary: "whiten(R − group mean) over the batch",
});
