// RLOO: leave-one-out baseline. A group of one gets 0 (no other sample to compare with).
import { advantages, type AdvantageInputs } from "../registries.js";
import { countGroups, groupStats } from "./group-stats.js";

/**
 * REINFORCE leave-one-out (Ahmadian et al., arXiv 2402.14740): A_i = r_i − mean_{j≠i}(r_j) = n/(n−1)·(r_i − mean(r_g)).
 * @example update.advantage("rloo", {rewards: [1, 0, 0], groups: [0, 0, 0]}) // [1, -0.5, -0.5]
 */
export function rloo({ rewards, groups }: AdvantageInputs): Float32Array {
  const g = groupStats(rewards, groups, countGroups(groups), false);
  const out = new Float32Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const n = g.count[groups[i]];
    if (n > 1) out[i] = (n / (n - 1)) * (rewards[i] - g.mean[groups[i]]);
  }
  return out;
}

advantages.add("rloo", rloo, { paper: "arXiv:2402.14740", summary: "r − mean of the other samples of the group" });
