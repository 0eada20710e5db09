// GDPO (Liu et al., "GDPO: Group reward-Decoupled Normalization Policy Optimization for Multi-reward RL",
// arXiv 2601.05242; NVlabs/GDPO's TRL implementation, TRL multi_objective_aggregation="normalize_then_sum"):
// normalise every reward component within its group, take the weighted sum, then whiten the sum over the batch:
//   A_k,i = (r_k,i − mean_g(r_k)) / (std_g(r_k) + eps)      (torch.std: unbiased; eps 1e-4)
//   S_i   = Σ_k w_k · A_k,i
//   A_i   = (S_i − mean_batch(S)) / (std_batch(S) + eps)
// A zero-spread group contributes 0 for that component (r − mean = 0). Groups of one: "zero" (0), as grpo.
// Summing first and normalising once (GRPO on the summed reward) collapses distinct reward combinations onto the same
// advantage; normalising each component first keeps them apart.
import { describe, fail } from "../../core/errors.js";
import { advantages, type AdvantageFn, type AdvantageInputs } from "../registries.js";
import { batchStats } from "./group-stats.js";
import { grpo } from "./grpo.js";

/** Options of "gdpo". */
export interface GdpoOptions {
  /** Added to the per-group std (each component) and to the batch std of the sum. Defaults to 1e-4 (NVlabs TRL). */
  eps?: number;
  /** "unbiased" (n − 1, torch.std) or "population" std, for both normalisations. Defaults to "unbiased". */
  std?: "unbiased" | "population";
}
/** Defaults of "gdpo" (NVlabs/GDPO's TRL code) (print them in a cell). */
export const gdpoDefaults: Required<GdpoOptions> = { eps: 1e-4, std: "unbiased" };

/**
 * GDPO advantage (arXiv 2601.05242): group-normalise each reward component, weighted sum, batch-normalise.
 * A_i = whiten_batch(Σ_k w_k (r_k,i − mean_g r_k) / (std_g r_k + eps)). Pass named rewards to update.advantage; a
 * single reward array is one component (then "gdpo" = whiten_batch(grpo)).
 * @example
 * update.advantage("gdpo", {rewards: {correct: [1, 0, 1, 1], format: [1, 1, 0, 1]}, groups: [0, 0, 0, 0]},
 *   {weights: {correct: 1, format: 0.5}})
 */
export const gdpo: AdvantageFn = (inputs: AdvantageInputs, options: GdpoOptions = {}): Float32Array => {
  const { eps, std } = { ...gdpoDefaults, ...options };
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0)
    fail(
      "invalid_option",
      `update.advantage: options.eps of "gdpo" must be a finite number >= 0 (got ${describe(eps)}).`,
      { path: ["options", "eps"] },
    );
  if (std !== "unbiased" && std !== "population")
    fail(
      "invalid_option",
      `update.advantage: options.std of "gdpo" is ${describe(std)} (expected "unbiased" or "population").`,
      { path: ["options", "std"] },
    );
  const comps = inputs.components ?? { reward: inputs.rewards };
  const B = inputs.rewards.length;
  const sum = new Float64Array(B);
  for (const [k, r] of Object.entries(comps)) {
    const w = inputs.weights?.[k] ?? 1;
    const a = grpo({ rewards: r, groups: inputs.groups }, { scale: "group", std, eps });
    for (let i = 0; i < B; i++) sum[i] += w * a[i];
  }
  const { mean, std: s } = batchStats(sum, std === "unbiased");
  const out = new Float32Array(B);
  for (let i = 0; i < B; i++) out[i] = (sum[i] - mean) / (s + eps);
  return out;
};
gdpo.multiReward = true;

advantages.add("gdpo", gdpo, {
  paper: "arXiv:2601.05242",
  summary: "group-normalise each reward component, weighted sum, batch-normalise",
});
