// GRPO and Dr. GRPO advantages (verl compute_grpo_outcome_advantage, norm_adv_by_std_in_grpo true / false).
// Departures from the papers, on purpose:
// 1. A group of one gets advantage 0 (TRL-like; Megatron masks such rollouts out). `singleton: "verl"` gives verl's
//    mean 0, std 1 there instead: A = R / (1 + eps) for GRPO, A = R for Dr. GRPO.
// 2. `std` chooses torch.std (unbiased, verl/TRL) or the population std (Megatron); `eps` is added outside the sqrt.
import { describe, fail } from "../../core/errors.js";
import { advantages, type AdvantageInputs } from "../registries.js";
import { batchStats, checkSingleton, countGroups, groupStats } from "./group-stats.js";

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
  /**
   * A group of one completion: "zero" gives it advantage 0 (TRL-like: nothing to compare with); "verl" uses mean 0 and
   * std 1 as verl does (A = R / (1 + eps); Dr. GRPO: A = R). Defaults to "zero".
   */
  singleton?: "zero" | "verl";
}
/** Defaults of the "grpo" estimator (verl's, but for `singleton`) (print them in a cell). */
export const grpoDefaults: Required<GrpoOptions> = { scale: "group", std: "unbiased", eps: 1e-6, singleton: "zero" };

/**
 * Group-relative advantage (DeepSeekMath, arXiv 2402.03300): A_i = (r_i − mean(r_g)) / (std(r_g) + eps).
 * @param inputs.rewards one reward per completion, [B]   @param inputs.groups group index per completion, [B]
 * @returns advantages [B]; 0 with zero spread, and for a group of one unless `singleton: "verl"`
 * @example update.advantage("grpo", {rewards: [1, 0, 1, 1], groups: [0, 0, 1, 1]}) // [0.707, -0.707, 0, 0]
 */
export function grpo({ rewards, groups }: AdvantageInputs, options: GrpoOptions = {}): Float32Array {
  const { scale, std, eps } = { ...grpoDefaults, ...options };
  const singleton = options.singleton ?? grpoDefaults.singleton;
  checkSingleton(singleton, "grpo");
  const n = countGroups(groups);
  const g = groupStats(rewards, groups, n, std === "unbiased");
  const batchStd = scale === "batch" ? batchStats(rewards, std === "unbiased").std : 0;
  const out = new Float32Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const k = groups[i];
    const one = g.count[k] < 2;
    if (one && singleton === "zero") continue;
    const centred = one ? rewards[i] : rewards[i] - g.mean[k]; // verl: a singleton's mean is 0, its std 1
    const spread = scale === "batch" ? batchStd : one ? 1 : g.std[k];
    out[i] = scale === "none" ? centred : centred / (spread + eps);
  }
  return out;
}

/**
 * Dr. GRPO advantage (arXiv 2503.20783): A_i = r_i − mean(r_g), no std division (pair it with agg
 * "seq-mean-token-sum-norm").
 * @example update.advantage("dr-grpo", {rewards: [1, 0], groups: [0, 0]}) // [0.5, -0.5]
 */
export function drGrpo(inputs: AdvantageInputs, options: Pick<GrpoOptions, "singleton"> = {}): Float32Array {
  return grpo(inputs, { singleton: options.singleton, scale: "none" });
}

/**
 * Lite PPO advantage (Liu et al., "Tricks or Traps? A Deep Dive into RL for LLM Reasoning", arXiv 2508.08221):
 * A_i = (r_i − mean(r_g)) / (std(r_batch) + eps), the group mean with the whole batch's (unbiased) std. This is
 * "grpo" with `scale: "batch"` and TRL's eps 1e-4 (TRL `scale_rewards="batch"`); pair it with agg "token-mean".
 * @example update.advantage("lite-ppo", {rewards: [1, 0, 1, 1], groups: [0, 0, 1, 1]}) // ≈ [1.0, -1.0, 0, 0]
 */
export function litePpo(
  inputs: AdvantageInputs,
  options: Pick<GrpoOptions, "std" | "eps" | "singleton"> = {},
): Float32Array {
  const scale = (options as GrpoOptions).scale;
  if (scale !== undefined && scale !== "batch")
    fail(
      "invalid_option",
      `update.advantage: "lite-ppo" always divides by the batch std (got options.scale ${describe(scale)}). ` +
        `Use "grpo" with scale "${scale}" instead.`,
      { path: ["options", "scale"] },
    );
  return grpo(inputs, { eps: litePpoDefaults.eps, ...options, scale: "batch" });
}
/** Defaults of "lite-ppo" (TRL scale_rewards="batch": unbiased batch std, eps 1e-4) (print them in a cell). */
export const litePpoDefaults = { std: "unbiased" as const, eps: 1e-4, singleton: "zero" as const };

advantages.add("grpo", grpo, { paper: "arXiv:2402.03300", summary: "(r − group mean) / (group std + eps)" });
advantages.add("dr-grpo", drGrpo, { paper: "arXiv:2503.20783", summary: "r − group mean (no std division)" });
advantages.add("lite-ppo", litePpo, {
  paper: "arXiv:2508.08221",
  summary: "(r − group mean) / (batch std + eps): TRL scale_rewards=batch",
});
