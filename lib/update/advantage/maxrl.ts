// MaxRL (Tajwar, Zeng et al., "Maximum Likelihood Reinforcement Learning", arXiv 2602.02710): the GRPO advantage with
// the group's mean reward in place of its std, A_i = (r_i − mean_g) / mean_g. For binary rewards mean_g is the pass
// rate p, so a prompt's gradient is weighted ∝ 1/p (hard prompts count more), as the log-likelihood log p demands.
// As prime-rl (orchestrator advantage "max_rl", PR #2778):
// 1. a group whose mean is 0 (no success) gets advantage 0 (nothing to learn from; no division by 0);
// 2. a group of one gets 0 (r − mean = 0; prime-rl PR #2985, which would keep R there, is not merged).
// `eps` (default 0, prime-rl) is added to the mean before dividing: TRL's MaxRL divides by (mean + 1e-4).
// Departure: negative rewards are an error (the paper and TRL's review: MaxRL is derived for rewards in [0, 1]; a
// mean near 0 or below flips or blows up the advantage).
import { describe, fail } from "../../core/errors.js";
import { advantages, type AdvantageInputs } from "../registries.js";
import { countGroups, groupStats } from "./group-stats.js";

/** Options of "maxrl". */
export interface MaxRlOptions {
  /** Added to the group mean before dividing (prime-rl 0; TRL 1e-4). Defaults to 0. */
  eps?: number;
}
/** Defaults of "maxrl" (prime-rl's) (print them in a cell). */
export const maxRlDefaults: Required<MaxRlOptions> = { eps: 0 };

/**
 * MaxRL advantage (arXiv 2602.02710): A_i = (r_i − mean_g) / (mean_g + eps), 0 when mean_g = 0 (prime-rl).
 * With binary rewards and K of N correct: a success gets N/K − 1, a failure −1.
 * @param inputs.rewards one reward per completion in [0, ∞), [B]   @param inputs.groups group index per completion, [B]
 * @example
 * update.advantage("maxrl", {rewards: [1, 0, 0, 0, 0, 0], groups: [0, 0, 0, 0, 1, 1]}) // [3, -1, -1, -1, 0, 0]
 */
export function maxRl({ rewards, groups }: AdvantageInputs, options: MaxRlOptions = {}): Float32Array {
  const eps = options.eps ?? maxRlDefaults.eps;
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0)
    fail(
      "invalid_option",
      `update.advantage: options.eps of "maxrl" must be a finite number >= 0 (got ${describe(eps)}).`,
      { path: ["options", "eps"] },
    );
  for (let i = 0; i < rewards.length; i++)
    if (rewards[i] < 0)
      fail(
        "invalid_input",
        `update.advantage: "maxrl" needs rewards >= 0 (success rewards, binary in the paper); inputs.rewards[${i}] ` +
          `is ${rewards[i]}. Shift or clip the reward to [0, 1], or use "grpo".`,
        { path: ["inputs", "rewards", i], got: rewards[i] },
      );
  const g = groupStats(rewards, groups, countGroups(groups), false);
  const out = new Float32Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const m = g.mean[groups[i]];
    if (m > 0) out[i] = (rewards[i] - m) / (m + eps);
  }
  return out;
}

advantages.add("maxrl", maxRl, {
  paper: "arXiv:2602.02710",
  summary: "(r − group mean) / group mean; 0 for a group without success (prime-rl max_rl)",
});
