// GRPO and Dr. GRPO advantages. Departures from the papers, on purpose:
// 1. A group of one gets advantage 0 (verl uses mean 0, std 1 there, i.e. A = R; Megatron masks such rollouts out).
// 2. `std` chooses torch.std (unbiased, verl/TRL) or the population std (Megatron); `eps` is added outside the sqrt.
import { advantages, type AdvantageInputs } from "../registries.js";
import { batchStats, countGroups, groupStats } from "./group-stats.js";

/** Options of the "grpo" estimator. */
export interface GrpoOptions {
  /**
   * What to divide (r − group mean) by: "group" = the group's std (GRPO), "batch" = the whole batch's std (Lite-PPO,
   * TRL scale_rewards="batch"), "none" = nothing (Dr. GRPO). Defaults to "group".
   */
  scale?: "group" | "batch" | "none";
  /** "unbiased" (n − 1, torch.std: verl, TRL) or "population" (n: Megatron). Defaults to "unbiased". */
  std?: "unbiased" | "population";
  /** Added to the std before dividing (verl 1e-6, TRL and Megatron 1e-4). Defaults to 1e-6. */
  eps?: number;
}
/** Defaults of the "grpo" estimator (verl's) (print them in a cell). */
export const grpoDefaults: Required<GrpoOptions> = { scale: "group", std: "unbiased", eps: 1e-6 };

/**
 * Group-relative advantage (DeepSeekMath, arXiv 2402.03300): A_i = (r_i − mean(r_g)) / (std(r_g) + eps).
 * @param inputs.rewards one reward per completion, [B]   @param inputs.groups group index per completion, [B]
 * @returns advantages [B]; 0 for a group of one or with zero spread
 * @example update.advantage("grpo", {rewards: [1, 0, 1, 1], groups: [0, 0, 1, 1]}) // [0.707, -0.707, 0, 0]
 */
export function grpo({ rewards, groups }: AdvantageInputs, options: GrpoOptions = {}): Float32Array {
  const { scale, std, eps } = { ...grpoDefaults, ...options };
  const n = countGroups(groups);
  const g = groupStats(rewards, groups, n, std === "unbiased");
  const batchStd = scale === "batch" ? batchStats(rewards, std === "unbiased").std : 0;
  const out = new Float32Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const k = groups[i];
    if (g.count[k] < 2) continue;
    const centred = rewards[i] - g.mean[k];
    out[i] = scale === "none" ? centred : centred / ((scale === "batch" ? batchStd : g.std[k]) + eps);
  }
  return out;
}

/**
 * Dr. GRPO advantage (arXiv 2503.20783): A_i = r_i − mean(r_g), no std division (pair it with agg "seq-mean-token-sum-norm").
 * @example update.advantage("dr-grpo", {rewards: [1, 0], groups: [0, 0]}) // [0.5, -0.5]
 */
export function drGrpo(inputs: AdvantageInputs): Float32Array {
  return grpo(inputs, { scale: "none" });
}

advantages.add("grpo", grpo, { paper: "arXiv:2402.03300", summary: "(r − group mean) / (group std + eps)" });
advantages.add("dr-grpo", drGrpo, { paper: "arXiv:2503.20783", summary: "r − group mean (no std division)" });
