// RLOO: leave-one-out baseline (verl compute_rloo_outcome_advantage). A group of one gets 0 (no other sample to
// compare with); `singleton: "verl"` keeps its reward as verl does (A = R).
import { advantages, type AdvantageInputs } from "../registries.js";
import { checkSingleton, countGroups, groupStats } from "./group-stats.js";

/** Options of "rloo". */
export interface RlooOptions {
  /** A group of one: "zero" (advantage 0) or "verl" (A = R, verl). Defaults to "zero". */
  singleton?: "zero" | "verl";
}

/**
 * REINFORCE leave-one-out (Ahmadian et al., arXiv 2402.14740): A_i = r_i − mean_{j≠i}(r_j) = n/(n−1)·(r_i − mean(r_g)).
 * @example update.advantage("rloo", {rewards: [1, 0, 0], groups: [0, 0, 0]}) // [1, -0.5, -0.5]
 */
export function rloo({ rewards, groups }: AdvantageInputs, options: RlooOptions = {}): Float32Array {
  const singleton = options.singleton ?? "zero";
  checkSingleton(singleton, "rloo");
  const g = groupStats(rewards, groups, countGroups(groups), false);
  const out = new Float32Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const n = g.count[groups[i]];
    if (n > 1) out[i] = (n / (n - 1)) * (rewards[i] - g.mean[groups[i]]);
    else if (singleton === "verl") out[i] = rewards[i];
  }
  return out;
}

advantages.add("rloo", rloo, { paper: "arXiv:2402.14740", summary: "r − mean of the other samples of the group" });
